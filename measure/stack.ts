// The stack's clusters and selectors, read from its own state with the Pulumi CLI: no credentials of the run's own.
import { spawn } from "node:child_process";
import { STACK_LABEL_KEY } from "../components/config/settings";

/** How the dynamic provider host types the resource whose inputs name both clusters and this stack's selectors. */
export const SYNC_TYPE = "pulumi-nodejs:dynamic/kubemark:HollowNodeSync";
/** Marks a secret in `pulumi stack export` (sdk/go/common/resource/sig.Secret); `plaintext` holds its JSON. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
/** `pulumi stack export` reads the state, decrypts the secrets, and prints: seconds, or a minute on a slow backend. */
const EXPORT_TIMEOUT_MS = 120_000;

export interface StackInfo {
    readonly stack: string;
    readonly targetKubeconfig: string;
    readonly nodeKubeconfig: string;
    /** `kubemark-pulumi/stack=<value>`: exactly this stack's hollow Nodes. */
    readonly selector: string;
    readonly labelValue: string;
    /** Namespace of the hollow pods in the node cluster. */
    readonly namespace: string;
    readonly podSelector: string;
    readonly replicas: number;
    readonly nodesPerPod: number;
}

/** Unwraps a value `--show-secrets` left marked as secret; a secret still encrypted cannot be used. */
function reveal(v: unknown, what: string): unknown {
    if (v && typeof v === "object" && SECRET_SIG in v) {
        const secret = v as { plaintext?: string; ciphertext?: string };
        if (typeof secret.plaintext !== "string") {
            throw new Error(
                `${what} is still encrypted in the export: the Pulumi CLI could not decrypt the stack's secrets ` +
                    "(set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE as for `pulumi up`)",
            );
        }
        return JSON.parse(secret.plaintext);
    }
    return v;
}

interface ExportedResource {
    type?: string;
    urn?: string;
    delete?: boolean;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
}

/**
 * The stack's clusters and selectors from `pulumi stack export --show-secrets`: the HollowNodeSync resource's
 * outputs (its inputs where an output is missing). Throws naming what is missing: a stack never brought up has no
 * such resource.
 */
export function stackInfoOf(exported: unknown, stack: string): StackInfo {
    const deployment = (exported as { deployment?: { resources?: ExportedResource[] } })?.deployment;
    const syncs = (deployment?.resources ?? []).filter((r) => r.type === SYNC_TYPE && !r.delete);
    if (syncs.length === 0) {
        throw new Error(
            `stack ${stack} is not up: its state holds no ${SYNC_TYPE} resource ` +
                `(${(deployment?.resources ?? []).length} resources in all); run \`pulumi up --stack ${stack}\` first`,
        );
    }
    if (syncs.length > 1) {
        throw new Error(
            `stack ${stack} holds ${syncs.length} HollowNodeSync resources (${syncs.map((r) => r.urn).join(", ")}): ` +
                "this program makes one per stack; is a `pulumi up` half done? Run it again first",
        );
    }
    const { inputs = {}, outputs = {} } = syncs[0];
    const field = (key: string) => reveal(outputs[key] ?? inputs[key], `${key} of ${syncs[0].urn}`);
    const problems: string[] = [];
    const text = (key: string) => {
        const v = field(key);
        if (typeof v !== "string" || v === "") {
            problems.push(`${key} (${JSON.stringify(v)?.slice(0, 40) ?? "missing"})`);
            return "";
        }
        return v;
    };
    const count = (key: string, fallback?: number) => {
        const v = field(key) ?? fallback;
        if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
            problems.push(`${key} (${JSON.stringify(v) ?? "missing"})`);
            return 0;
        }
        return v;
    };
    const info = {
        stack,
        targetKubeconfig: text("targetKubeconfig"),
        nodeKubeconfig: text("nodeKubeconfig"),
        selector: text("selector"),
        namespace: text("namespace"),
        podSelector: text("podSelector"),
        replicas: count("replicas"),
        // State written before nodesPerPod existed ran one hollow node per pod.
        nodesPerPod: count("nodesPerPod", 1),
    };
    if (problems.length > 0) {
        throw new Error(
            `stack ${stack}: its ${SYNC_TYPE} resource lacks usable ${problems.join(", ")}; run \`pulumi up --stack ${stack}\` again`,
        );
    }
    const [key, value, ...more] = info.selector.split("=");
    if (key !== STACK_LABEL_KEY || !value || more.length > 0) {
        throw new Error(
            `stack ${stack}: its Node selector ${JSON.stringify(info.selector)} is not ${STACK_LABEL_KEY}=<value>; ` +
                "the run selects nothing else, so it stops here",
        );
    }
    if (info.nodesPerPod < 1) {
        throw new Error(`stack ${stack}: nodesPerPod ${info.nodesPerPod} in its state; expected 1 or more`);
    }
    return { ...info, labelValue: value };
}

/** What a finished command printed. */
export interface CliRun {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}
export type RunCli = (args: readonly string[]) => Promise<CliRun>;

/** Runs the Pulumi CLI on PATH in the current folder, with the user's environment (backend, passphrase). */
export const pulumiCli: RunCli = (args) =>
    new Promise((resolve) => {
        const child = spawn("pulumi", [...args], {
            stdio: ["ignore", "pipe", "pipe"],
            env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" },
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => {
            stdout += d;
        });
        child.stderr.on("data", (d) => {
            stderr += d;
        });
        const timer = setTimeout(() => child.kill("SIGTERM"), EXPORT_TIMEOUT_MS);
        child.on("error", (e) => {
            clearTimeout(timer);
            resolve({ code: 127, stdout, stderr: `${stderr}cannot run the Pulumi CLI: ${e.message}` });
        });
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            resolve({
                code: code ?? (signal ? 128 : 1),
                stdout,
                stderr: signal === "SIGTERM" ? `${stderr}no answer within ${EXPORT_TIMEOUT_MS / 1000}s` : stderr,
            });
        });
    });

/** The stack's state, secrets shown, through the CLI; its own message when it cannot (no such stack, locked). */
export async function readStack(stack: string, cli: RunCli = pulumiCli): Promise<StackInfo> {
    const run = await cli(["stack", "export", "--show-secrets", "--stack", stack]);
    if (run.code !== 0) {
        const said = run.stderr.trim() || run.stdout.trim();
        throw new Error(
            `cannot read stack ${stack} with \`pulumi stack export --show-secrets --stack ${stack}\` ` +
                `(exit ${run.code}): ${said.slice(0, 600)}. Run it where \`pulumi up\` works for that stack (this repository, ` +
                "the same backend login and PULUMI_CONFIG_PASSPHRASE)",
        );
    }
    let exported: unknown;
    try {
        exported = JSON.parse(run.stdout);
    } catch (e) {
        throw new Error(`\`pulumi stack export\` of ${stack} printed no JSON: ${(e as Error).message}`);
    }
    return stackInfoOf(exported, stack);
}
