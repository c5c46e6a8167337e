// The whole program under pulumi.runtime.setMocks for one stack file, with the test's kubeconfig and a git remote on
// disk: what the mocks test files share.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import { BUILD, ROOT } from "./paths";

const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const SIG_KEY = "4dabf18193072939515e22adb298388d";

export interface Registered { type: string; name: string; inputs: Record<string, any>; deps: string[]; urn: string }

export const isSecret = (v: unknown) => typeof v === "object" && v !== null && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
export const reveal = (v: any): any => (isSecret(v) ? reveal(v.value) : v);

export const stackFiles = fs.readdirSync(ROOT).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f)).sort();

const REMOTE_TAGS = ["v1.30.4", "v1.31.0", "v1.37.2"];
let made: { kubeconfigFile: string; gitRemote: string } | undefined;

/**
 * The test's kubeconfig (no cluster is reached) and a git remote on disk with a tag for every release the stack files
 * and tests name: the program looks the release up where its build would fetch it, so the default (GitHub) would put
 * the network into these tests. Made on first use: the test runner also loads this file alone.
 */
export function fixtures(): { kubeconfigFile: string; gitRemote: string } {
    if (made !== undefined) {
        return made;
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "program-test-"));
    const kubeconfigFile = path.join(dir, "config");
    fs.writeFileSync(kubeconfigFile, yaml.dump({
        apiVersion: "v1", kind: "Config", "current-context": "lab",
        clusters: [{ name: "lab", cluster: { server: "https://127.0.0.1:1", "certificate-authority-data": "Q0E=" } }],
        users: [{ name: "admin", user: { token: "super-secret-token" } }],
        contexts: [{ name: "lab", context: { cluster: "lab", user: "admin" } }],
    }));
    const gitRemote = path.join(dir, "kubernetes.git");
    const work = path.join(dir, "kubernetes-work");
    const git = (cwd: string, ...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd, stdio: "ignore" });
    fs.mkdirSync(work);
    git(work, "init", "-q");
    git(work, "commit", "-q", "--allow-empty", "-m", "release");
    for (const tag of REMOTE_TAGS) {
        git(work, "tag", tag);
    }
    git(dir, "clone", "-q", "--bare", work, gitRemote);
    made = { kubeconfigFile, gitRemote };
    return made;
}

/**
 * What HollowCredentials would issue: a certificate per node and a token per ServiceAccount, marked to be found in
 * Secrets.
 */
function issuedCredentials(inputs: Record<string, any>) {
    const expires = "2030-01-01T00:00:00.000Z";
    return {
        // A GPU pool's certificates expire first: another pool's pods must not roll with them (per-pool generation).
        certificates: Object.fromEntries((inputs.nodeNames as string[]).map((n) => [n, { certPem: `CERT-${n}`, keyPem: `KEY-${n}`, notBefore: "2026-01-01T00:00:00.000Z",
            notAfter: n.includes("-gpu-") ? "2029-06-01T00:00:00.000Z" : expires, csrName: `${n}-x` }])),
        tokens: Object.fromEntries((inputs.serviceAccounts as string[]).map((a) => [a, { token: `TOKEN-${a}`, issued: "2026-01-01T00:00:00.000Z", expires }])),
    };
}

export async function runStack(stack: string, overrides: Record<string, string> = {}): Promise<{ resources: Registered[]; outputs: Record<string, unknown> }> {
    const doc = yaml.load(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config?: Record<string, unknown> };
    const config: Record<string, string> = {};
    for (const [k, v] of Object.entries(doc.config ?? {})) {
        config[k] = typeof v === "string" ? v : JSON.stringify(v);
    }
    // Stack files that name kubeconfig files (the lab's) get the test's instead: no cluster is reached.
    for (const key of ["kubemark:nodeKubeconfig", "kubemark:targetKubeconfig"]) {
        if (config[key] !== undefined) {
            config[key] = fixtures().kubeconfigFile;
        }
    }
    config["kubemark:gitRepository"] ??= `file://${fixtures().gitRemote}`;
    Object.assign(config, overrides);
    process.env.KUBECONFIG = fixtures().kubeconfigFile;
    pulumi.runtime.setAllConfig(config, []);
    const resources: Registered[] = [];
    await pulumi.runtime.setMocks({
        newResource: (args) => {
            const r = resources.find((x) => x.name === args.name && x.type === args.type);
            if (r) {
                r.inputs = args.inputs;
            }
            const extra = args.inputs.serviceAccounts !== undefined ? issuedCredentials(args.inputs)
                : args.type.startsWith("pulumi-nodejs:dynamic") ? { readyNodes: config["kubemark:replicas"] ? Number(config["kubemark:replicas"]) : 10 }
                : args.type === "docker:index/image:Image" ? { repoDigest: `${String(args.inputs.imageName).replace(/:[^:/]*$/, "")}@sha256:${"ab".repeat(32)}` }
                    : {};
            return { id: `${args.name}-id`, state: { ...args.inputs, ...extra } };
        },
        call: () => ({}),
    }, "kubemark", stack, false);
    // The engine's view of dependencies: wrap the mock monitor to record them.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- an SDK internal, not in its typings
    const monitor = require("@pulumi/pulumi/runtime/state").getStore().settings.monitor;
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, cb: any) => {
        resources.push({ type: req.getType(), name: req.getName(), inputs: {}, deps: req.getDependenciesList(), urn: "" });
        return register(req, (err: unknown, resp: any) => {
            const r = resources.find((x) => x.name === req.getName() && x.type === req.getType());
            if (r && resp) {
                r.urn = resp.getUrn();
            }
            cb(err, resp);
        });
    };
    for (const key of Object.keys(require.cache)) {
        if (key.startsWith(BUILD) && !key.includes(`${path.sep}test${path.sep}`)) {
            delete require.cache[key];
        }
    }
    const program = await import(path.join(BUILD, "index.js"));
    const outputs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(program)) {
        outputs[k] = await new Promise((resolve) => (pulumi.output(v as any) as pulumi.Output<unknown>).apply(resolve));
    }
    return { resources, outputs };
}
