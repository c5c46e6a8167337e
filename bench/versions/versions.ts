// npm run bench:versions: every tested release built, brought Ready, held, measured and destroyed in the lab, each
// against a target control plane of its own release; one row per release in bench/results.md.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { parseRelease, TESTED_RELEASES } from "../../components/config/releases";
import { STACK_LABEL_KEY } from "../../components/config/settings";
import { buildImage } from "../../lab/buildImage";
import { clientsOf, DOCKER_ENV, hollowLogRefusals, kubeconfigFile, lab, REGISTRY } from "../../lab/lab";
import { toolchainDir } from "../../test/harness/controlPlane";
import { measure } from "../../test/harness/measureLoad";
import { copyProject, pulumi } from "../../test/harness/pulumiCli";
import { requireLab } from "../common/labStack";
import { patient } from "../common/patient";
import { reportsOf } from "../common/paths";
import { usageOver } from "../common/usage";
import { Measured, ReleaseRow, SHARED_FROM_MINOR, versionsMarkdown, writeVersions } from "./versionsReport";

const env = (k: string, d: number) => Number(process.env[k] ?? d);
const REPLICAS = env("VERSIONS_REPLICAS", 10);
const SHARED_REPLICAS = 3;
const SETTLE_S = env("VERSIONS_SETTLE_S", 30);
const HOLD_S = env("VERSIONS_HOLD_S", 60);
/** VERSIONS=v1.29.15,v1.37.2 runs those only (a partial run writes beside the build, not into results.md). */
const ONLY = (process.env.VERSIONS ?? "").split(",").filter(Boolean);
const RELEASES = ONLY.length > 0 ? ONLY : [...TESTED_RELEASES];

const log = (m: string) => console.log(`[bench:versions ${new Date().toISOString().slice(11, 19)}] ${m}`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const look = <T>(what: string, call: (retried: boolean) => Promise<T>) => patient(what, call, log);
const seconds = (t0: number) => (performance.now() - t0) / 1000;

/** One release's stacks: the main one (a certificate per Node) and a Deployment (the shared identity). */
function stacksOf(release: string) {
    const slug = release.replace(/^v/, "").replace(/\./g, "-");
    return { main: `v${slug}`, shared: `v${slug}-shared` };
}

async function cli(project: string, stack: string, args: string[]) {
    const run = await pulumi(project, stack, args);
    if (run.code !== 0) {
        throw new Error(`pulumi ${args[0]} of ${stack} failed after ${run.seconds.toFixed(0)}s:\n${run.out.slice(-3000)}`);
    }
    return run;
}

async function configure(project: string, stack: string, values: Record<string, string>): Promise<void> {
    fs.copyFileSync(path.join(project, "Pulumi.lab.yaml"), path.join(project, `Pulumi.${stack}.yaml`));
    await cli(project, stack, ["stack", "init"]);
    for (const [k, v] of Object.entries({ nodeKubeconfig: kubeconfigFile("node"), targetKubeconfig: kubeconfigFile("target"), ...values })) {
        await cli(project, stack, ["config", "set", k, v]);
    }
}

/** Restarts of every container of the namespace's pods. */
async function restarts(namespace: string): Promise<number> {
    const pods = (await look("list hollow pods", () => clientsOf("node").core.listNamespacedPod({ namespace }))).items;
    return pods.flatMap((p) => p.status?.containerStatuses ?? []).reduce((a, c) => a + c.restartCount, 0);
}

/** What a destroyed stack left: Nodes, Leases, CSRs of its label, its namespace. */
async function leftOf(stack: string): Promise<string[]> {
    const selector = `${STACK_LABEL_KEY}=kubemark.${stack}`;
    const target = clientsOf("target");
    const nodes = (await target.core.listNode({ labelSelector: selector })).items.map((n) => `Node ${n.metadata!.name}`);
    const leases = (await target.coordination.listNamespacedLease({ namespace: "kube-node-lease" })).items
        .map((l) => l.metadata!.name!).filter((n) => n.startsWith(`hollow-node-${stack}-`)).map((n) => `Lease ${n}`);
    const csrs = (await target.certificates.listCertificateSigningRequest({ labelSelector: selector })).items.map((c) => `CSR ${c.metadata!.name}`);
    const namespaces = (await clientsOf("node").core.listNamespace()).items.map((n) => n.metadata!.name!)
        .filter((n) => n === `kubemark-${stack}`).map((n) => `namespace ${n}`);
    return [...nodes, ...leases, ...csrs, ...namespaces];
}

/** `npm run measure` at its small defaults on the stack: each SLI's verdict, the report kept under reports/. */
async function measured(project: string, stack: string, release: string): Promise<Measured> {
    const out = path.join(reportsOf("versions"), release);
    fs.rmSync(out, { recursive: true, force: true });
    const run = await measure(project, ["--stack", stack, "--output", out]);
    const rows = (JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8")) as { rows: { sli: string; verdict: string }[] }).rows;
    const judged = rows.filter((r) => r.verdict === "pass" || r.verdict === "fail");
    return { exit: run.code, passed: judged.filter((r) => r.verdict === "pass").length, judged: judged.length,
        failed: judged.filter((r) => r.verdict === "fail").map((r) => r.sli) };
}

/** The shared identity's stack: Ready, then its kubelets' and proxies' refusals; destroyed. Undefined where n/a. */
async function sharedRefusals(project: string, release: string, image: string): Promise<number | undefined> {
    if (parseRelease(release)!.minor < SHARED_FROM_MINOR) {
        return undefined;
    }
    const { shared } = stacksOf(release);
    await configure(project, shared, { image, kubernetesVersion: release, replicas: String(SHARED_REPLICAS), workloadKind: "Deployment" });
    try {
        await cli(project, shared, ["up", "--yes", "--skip-preview"]);
        await sleep((SETTLE_S + HOLD_S / 2) * 1000);
        return (await hollowLogRefusals(`kubemark-${shared}`)).lines.length;
    } finally {
        await cli(project, shared, ["destroy", "--yes", "--skip-preview"]);
    }
}

async function runRelease(project: string, release: string): Promise<ReleaseRow> {
    const row: ReleaseRow = { release, target: release, steps: {} };
    const built = fs.existsSync(path.join(toolchainDir(), "k8s", release, "bin", "kube-apiserver"));
    let t = performance.now();
    const up = await lab("up", "--target", release);
    if (up.code !== 0) {
        throw new Error(`lab up --target ${release} failed:\n${up.out.slice(-2000)}`);
    }
    row.steps.lab = { seconds: seconds(t), note: built ? "switched" : "control plane built, then switched" };
    t = performance.now();
    const image = await buildImage(release, REGISTRY, { ...process.env, ...DOCKER_ENV });
    row.image = { seconds: seconds(t), steps: image.seconds, tag: image.plan.imageName.split(":").pop()!, sizeMiB: imageSizeMiB(image.plan.imageName) };
    const { main } = stacksOf(release);
    const namespace = `kubemark-${main}`;
    await configure(project, main, { image: image.digestRef, kubernetesVersion: release, replicas: String(REPLICAS) });
    try {
        row.upSeconds = (await cli(project, main, ["up", "--yes", "--skip-preview"])).seconds;
        log(`${release}: ${REPLICAS} hollow Nodes Ready after ${row.upSeconds.toFixed(1)}s; settling ${SETTLE_S}s, then idle for ${HOLD_S}s`);
        await sleep(SETTLE_S * 1000);
        row.idle = await usageOver(namespace, HOLD_S, sleep, look);
        row.measure = await measured(project, main, release);
        log(`${release}: measure ${row.measure.passed}/${row.measure.judged} SLIs pass${row.measure.failed.length ? ` (FAIL: ${row.measure.failed.join("; ")})` : ""}`);
        const logs = await hollowLogRefusals(namespace);
        row.refusals = logs.lines.length;
        row.nodeGraphRaces = logs.races.length;
        row.restarts = await restarts(namespace);
        row.sharedRefusals = await sharedRefusals(project, release, image.digestRef);
    } finally {
        t = performance.now();
        const destroyed = await pulumi(project, main, ["destroy", "--yes", "--skip-preview"]);
        row.destroySeconds = destroyed.code === 0 ? seconds(t) : undefined;
        row.left = destroyed.code === 0 ? await leftOf(main) : [`destroy failed: ${destroyed.out.slice(-300)}`];
    }
    return row;
}

/** The image's size as the lab's docker daemon reports it (uncompressed). */
function imageSizeMiB(ref: string): number {
    const r = spawnSync("docker", ["image", "inspect", "--format", "{{.Size}}", ref], { env: { ...process.env, ...DOCKER_ENV }, encoding: "utf8" });
    return Number(r.stdout.trim()) / 2 ** 20;
}

async function main(): Promise<void> {
    requireLab("bench:versions");
    const started = performance.now();
    // Nothing a demo or an earlier run left in the clusters runs beside the rows (the first release starts the lab).
    await lab("down", "--wipe");
    const project = copyProject(["Pulumi.lab.yaml"]);
    const rows: ReleaseRow[] = [];
    for (const release of RELEASES) {
        log(`${release}: target ${release}, image, ${REPLICAS} hollow Nodes, idle, measure, ${SHARED_REPLICAS} sharing one identity, destroy`);
        const t = performance.now();
        try {
            rows.push(await runRelease(project, release));
        } catch (e) {
            log(`${release}: ${(e as Error).message.split("\n")[0]}`);
            rows.push({ release, target: release, steps: {}, error: (e as Error).message.split("\n").slice(0, 3).join(" ") });
        }
        rows[rows.length - 1].minutes = seconds(t) / 60;
    }
    await lab("down");
    fs.rmSync(project, { recursive: true, force: true });
    const md = versionsMarkdown(rows, (performance.now() - started) / 60000, { replicas: REPLICAS, sharedReplicas: SHARED_REPLICAS, settleS: SETTLE_S, holdS: HOLD_S });
    const file = writeVersions(md, rows, ONLY.length === 0);
    console.log(md);
    log(`written to ${file}`);
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
