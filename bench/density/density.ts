// npm run bench:density: what hollow nodes cost on the lab's one real worker, per pod layout, and how many it holds.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { STACK_LABEL_KEY } from "../../components/config/settings";
import { TERMINATION_GRACE_SECONDS } from "../../components/hollow/podspec";
import { clientsOf, kubeconfigFile, lab, LAB } from "../../lab/lab";
import { toolchainDir } from "../../test/harness/controlPlane";
import { cliEnv, pulumi, Run } from "../../test/harness/pulumiCli";
import { labPids, machineBusySeconds, memAvailableMiB, processCpuSeconds } from "../common/cgroups";
import { hollowPodRefs, Usage, usageOver } from "../common/usage";
import { bindPods, unbindPods } from "../common/boundPods";
import { densityMarkdown, DensityRun, LayoutRow, writeDensityRun, writeDensitySection } from "./densityReport";
import { freshLab, labStack, requireLab } from "../common/labStack";
import { firstLine, patient } from "../common/patient";
import { BENCH_BUILD, resultsLink } from "../common/paths";
import { DENSITY_CHARTS, densitySvgs } from "../common/plots";
import { breakdown, TimedLine, Timeline } from "./timeline";

const STACK = "density";
const NS = `kubemark-${STACK}`;
const SELECTOR = `${STACK_LABEL_KEY}=kubemark.${STACK}`;
const env = (k: string, d: number) => Number(process.env[k] ?? d);
/** Pods per layout row: enough to average over, few enough that a row stays short. */
const LAYOUT_PODS = env("DENSITY_LAYOUT_PODS", 3);
const SETTLE_S = env("DENSITY_SETTLE_S", 30);
const WINDOW_S = env("DENSITY_WINDOW_S", 60);
const TARGET = env("DENSITY_N", 300);
/** Layouts of the density step, one run each: `DENSITY_PER_POD=1,3,5,10` compares them. */
const PER_POD = (process.env.DENSITY_PER_POD ?? "10").split(",").map(Number);
const HOLD_S = env("DENSITY_HOLD_S", 600);
/** Pods bound to each hollow Node for the "with pods" rows: a busy hollow kubelet syncs them every 10 s. */
const PODS_PER_NODE = env("DENSITY_PODS_PER_NODE", 10);
const ALL = "layouts,knobs,density";
const ONLY = process.env.DENSITY_ONLY ?? ALL;
/** More stack config for the density step, as JSON, to try a setting: `DENSITY_CONFIG='{"logVerbosity":"0"}'`. */
const EXTRA_CONFIG = JSON.parse(process.env.DENSITY_CONFIG ?? "{}") as Record<string, string>;

const log = (m: string) => console.log(`[density ${new Date().toISOString().slice(11, 19)}] ${m}`);
/** DENSITY_TIMELINE=0 leaves out the watches and log reading that break the density run's up and destroy down. */
const TIMELINE = process.env.DENSITY_TIMELINE !== "0";
const OUT = BENCH_BUILD;

/** Set by the first Ctrl-C or SIGTERM: the run stops at its next wait, destroys its stack and stops the lab. */
let interrupted = "";
function stopOn(signal: NodeJS.Signals): void {
    process.on(signal, () => {
        if (interrupted) {
            log(`${signal} again: exiting now; the stack and the lab are left (npm run lab:down stops the lab)`);
            process.exit(130);
        }
        interrupted = signal;
        log(`${signal}: stopping after the running step, then pulumi destroy and lab down (again to exit at once)`);
    });
}
async function sleep(ms: number): Promise<void> {
    const until = performance.now() + ms;
    while (performance.now() < until) {
        if (interrupted) {
            throw new Error(`interrupted (${interrupted})`);
        }
        await new Promise((r) => setTimeout(r, Math.min(1000, until - performance.now())));
    }
}
/** An API call of the bench's own, forgiving a busy or briefly unreachable API server (bench/common/patient.ts). */
const look = <T>(what: string, call: (retried: boolean) => Promise<T>) => patient(what, call, log);

const podRefs = () => hollowPodRefs(NS, look);
/** CPU over a window and RSS at its end, summed over this stack's hollow pods, split kubelet / proxy. */
const measure = (windowS: number) => usageOver(NS, windowS, sleep, look);

async function nodes() {
    return (await look("list hollow Nodes", () => clientsOf("target").core.listNode({ labelSelector: SELECTOR }))).items;
}
const readyOf = (n: { status?: { conditions?: { type: string; status: string; lastTransitionTime?: Date }[] } }) =>
    (n.status?.conditions ?? []).find((c) => c.type === "Ready");

let project = "";
async function cli(args: string[]) {
    if (interrupted) {
        throw new Error(`interrupted (${interrupted})`);
    }
    const run = await pulumi(project, STACK, args);
    if (run.code !== 0) {
        throw new Error(`pulumi ${args.join(" ")} failed after ${run.seconds.toFixed(0)}s:\n${run.out.slice(-4000)}`);
    }
    return run;
}
async function configure(values: Record<string, string>) {
    for (const [k, v] of Object.entries(values)) {
        await cli(["config", "set", k, v]);
    }
}

/**
 * Measurement only: sets the Go runtime variables of every hollow container of the running workload (GOMAXPROCS=0
 * and GOGC=100 are Go's own defaults), waits for the rollout and all Ready. The next `pulumi up` puts the program's
 * back.
 */
async function withGoRuntime(values: Record<string, string>, nodesWanted: number): Promise<void> {
    const { apps } = clientsOf("node");
    const name = `hollow-node-${STACK}`;
    const sts = await look("read the StatefulSet", () => apps.readNamespacedStatefulSet({ name, namespace: NS }));
    const containers = sts.spec!.template.spec!.containers.map((c) => ({
        name: c.name, env: Object.entries(values).map(([k, v]) => ({ name: k, value: v })),
    }));
    const patch = JSON.stringify({ spec: { template: { spec: { containers } } } });
    const run = spawnSync(path.join(toolchainDir(), "bin", "kubectl"), ["--kubeconfig", kubeconfigFile("node"), "-n", NS, "patch", "statefulset", name,
        "--type", "strategic", "-p", patch], { encoding: "utf8" });
    if (run.status !== 0) {
        throw new Error(`kubectl patch: ${run.stderr}`);
    }
    const started = performance.now();
    for (;;) {
        const s = await look("read the StatefulSet", () => apps.readNamespacedStatefulSet({ name, namespace: NS }));
        const rolled = s.status?.updateRevision === s.status?.currentRevision && s.status?.updatedReplicas === s.spec?.replicas;
        const ready = (await nodes()).filter((n) => readyOf(n)?.status === "True").length;
        if (rolled && ready >= nodesWanted && (await podRefs()).length === s.spec?.replicas) {
            return;
        }
        if (performance.now() - started > 600_000) {
            throw new Error(`rollout with ${patch} not done after 600s`);
        }
        await sleep(2000);
    }
}

/** Knob rows at 10 per pod with the proxy: the program's Go runtime settings against Go's defaults and each alone. */
async function knobRows(): Promise<LayoutRow[]> {
    const rows: LayoutRow[] = [];
    const n = 10 * LAYOUT_PODS;
    await configure({ replicas: String(n), nodesPerPod: "10", hollowProxy: "true" });
    const up = await cli(["up", "--yes", "--skip-preview"]);
    const variants: [string, Record<string, string>][] = [
        // Both set in every row: a strategic merge keeps variables an earlier row added. GOGC=100 is Go's default.
        ["Go defaults (GOMAXPROCS=0, GOGC=100)", { GOMAXPROCS: "0", GOGC: "100" }],
        ["GOGC=400", { GOMAXPROCS: "0", GOGC: "400" }],
        ["GOMAXPROCS=1, GOGC=400", { GOMAXPROCS: "1", GOGC: "400" }],
        ["program's: GOMAXPROCS=1", { GOMAXPROCS: "1", GOGC: "100" }],
    ];
    for (const [label, values] of variants) {
        await withGoRuntime(values, n);
        await sleep(SETTLE_S * 1000);
        rows.push({ perPod: 10, proxy: true, load: `idle, ${label}`, usage: await measure(WINDOW_S), upSeconds: up.seconds });
        log(JSON.stringify(rows[rows.length - 1]));
    }
    return rows;
}

async function layoutRows(): Promise<LayoutRow[]> {
    const rows: LayoutRow[] = [];
    for (const perPod of [1, 5, 10]) {
        for (const proxy of [true, false]) {
            await configure({ replicas: String(perPod * LAYOUT_PODS), nodesPerPod: String(perPod), hollowProxy: String(proxy) });
            const up = await cli(["up", "--yes", "--skip-preview"]);
            log(`${perPod} per pod, proxy ${proxy}: ${perPod * LAYOUT_PODS} Ready in ${up.seconds.toFixed(1)}s; settling ${SETTLE_S}s`);
            await sleep(SETTLE_S * 1000);
            rows.push({ perPod, proxy, load: "idle", usage: await measure(WINDOW_S), upSeconds: up.seconds });
            if (proxy && perPod === 10) {
                const bound = await bindPods(SELECTOR, PODS_PER_NODE, look, sleep);
                log(`${PODS_PER_NODE} pods on each hollow Node Running after ${bound.toFixed(1)}s`);
                await sleep(SETTLE_S * 1000);
                rows.push({ perPod, proxy, load: `${PODS_PER_NODE} pods per Node`, usage: await measure(WINDOW_S), upSeconds: up.seconds });
                await unbindPods(look, sleep);
            }
            log(JSON.stringify(rows[rows.length - 1]));
        }
    }
    return rows;
}

/** Up to TARGET Nodes, held HOLD_S with a look every 10 s, then destroy; what it saw, flaps included. */
async function densityRun(requests: Record<string, string>, perPod: number): Promise<DensityRun> {
    await configure({
        replicas: String(TARGET), nodesPerPod: String(perPod), hollowProxy: "true", readyTimeoutSeconds: "1800", ...requests, ...EXTRA_CONFIG,
    });
    const timeline = TIMELINE ? new Timeline(NS, SELECTOR, `hollow-node-${STACK}-`) : undefined;
    timeline?.start();
    const upBusy0 = machineBusySeconds();
    const upStart = Date.now();
    const up = await pulumiTimed(["up", "--yes", "--skip-preview"]);
    const upEnd = Date.now();
    const upBusyCores = (machineBusySeconds() - upBusy0) / up.seconds;
    const upLoad = Number(fs.readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
    const registered = await nodes();
    const readyAtUp = registered.filter((n) => readyOf(n)?.status === "True").length;
    log(`up to ${TARGET}: exit ${up.code} after ${up.seconds.toFixed(1)}s, ${readyAtUp} Ready${up.code === 0 ? "" : `; its last output:\n${up.out.slice(-1500)}`}`);
    const run: DensityRun = {
        target: TARGET, perPod, requests, upSeconds: up.seconds, upOk: up.code === 0, readyAtUp,
        holdSeconds: 0, minReady: readyAtUp, flaps: 0, flapped: [], samples: 0, endReady: 0,
        allReadySeconds: readyAtUp >= TARGET ? up.seconds : undefined,
        hollowCpuCores: 0, hollowRssGiB: 0, machineBusyCores: 0, daemons: {}, memAvailableMiB: memAvailableMiB(),
        destroySeconds: 0, left: [], upError: up.code === 0 ? "" : up.out.slice(-1500),
        upBusyCores, upLoadAverage: upLoad, destroyBusyCores: 0, missedLooks: 0,
    };
    log(`machine during up: ${upBusyCores.toFixed(2)} of ${os.cpus().length} cores busy on average, load average ${upLoad} at its end`);
    // A flap: a Node seen Ready that is later not Ready, missing, or Ready since a newer transition. A Node
    // not yet Ready when the hold starts (an up that failed or timed out) joins once it is.
    const since = new Map<string, string>();
    const note = (n: (typeof registered)[number]) => since.set(n.metadata!.name!, String(readyOf(n)?.lastTransitionTime));
    registered.filter((n) => readyOf(n)?.status === "True").forEach(note);
    const flapped = new Set<string>();
    const pids = labPids(LAB);
    const cpu0 = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, processCpuSeconds(pid) ?? 0]));
    const busy0 = machineBusySeconds();
    const holdStart = performance.now();
    let usage: Usage | undefined;
    while ((performance.now() - holdStart) / 1000 < HOLD_S) {
        let seen: Awaited<ReturnType<typeof nodes>>;
        try {
            seen = await nodes();
        } catch (e) {
            // Even after its retries: a look missed, not a Node lost; the next look 10 s on tells.
            run.missedLooks = (run.missedLooks ?? 0) + 1;
            log(`hold: a look at the Nodes failed (${firstLine(e)}); ${run.missedLooks} missed so far`);
            await sleep(10_000);
            continue;
        }
        const ready = seen.filter((n) => readyOf(n)?.status === "True").length;
        run.minReady = Math.min(run.minReady, ready);
        run.endReady = ready;
        if (run.allReadySeconds === undefined && ready >= TARGET) {
            run.allReadySeconds = up.seconds + (performance.now() - holdStart) / 1000;
        }
        const present = new Set(seen.map((n) => n.metadata!.name!));
        for (const name of since.keys()) {
            if (!present.has(name) && !flapped.has(name)) {
                log(`flap: ${name} is gone`);
                flapped.add(name);
                run.flaps++;
            }
        }
        for (const n of seen) {
            const name = n.metadata!.name!;
            const isReady = readyOf(n)?.status === "True";
            if (!since.has(name)) {
                if (isReady) {
                    note(n);
                }
                continue;
            }
            if (!isReady || since.get(name) !== String(readyOf(n)?.lastTransitionTime)) {
                log(`flap: ${name} Ready=${readyOf(n)?.status} since ${readyOf(n)?.lastTransitionTime?.toISOString()}`);
                flapped.add(name);
                run.flaps++;
                note(n);
            }
        }
        run.samples++;
        if (run.samples % 6 === 0) {
            log(`hold ${Math.round((performance.now() - holdStart) / 1000)}s: ${ready}/${TARGET} Ready, ${flapped.size} Node(s) flapped so far`);
        }
        // One usage window in the middle of the hold; the other looks are 10 s apart.
        if (usage === undefined && (performance.now() - holdStart) / 1000 > HOLD_S / 2) {
            usage = await measure(60);
        } else {
            await sleep(10_000);
        }
    }
    run.holdSeconds = (performance.now() - holdStart) / 1000;
    run.flapped = [...flapped].sort();
    run.machineBusyCores = (machineBusySeconds() - busy0) / run.holdSeconds;
    run.daemons = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, ((processCpuSeconds(pid) ?? 0) - cpu0[k]) / run.holdSeconds]));
    if (usage) {
        run.hollowCpuCores = (usage.kubeletCpuM + usage.proxyCpuM) / 1000;
        run.hollowRssGiB = (usage.kubeletRssMiB + usage.proxyRssMiB) / 1024;
    }
    run.memAvailableMiB = memAvailableMiB();
    timeline?.watchLeases();
    const destroyBusy0 = machineBusySeconds();
    const destroyStart = Date.now();
    const destroy = await pulumiTimed(["destroy", "--yes", "--skip-preview"]);
    const destroyEnd = Date.now();
    run.destroySeconds = destroy.seconds;
    run.destroyBusyCores = (machineBusySeconds() - destroyBusy0) / destroy.seconds;
    const target = clientsOf("target");
    const leases = (await look("list Leases", () => target.coordination.listNamespacedLease({ namespace: "kube-node-lease" }))).items.map((l) => l.metadata!.name!);
    const csrs = (await look("list CSRs", () => target.certificates.listCertificateSigningRequest({ labelSelector: SELECTOR }))).items;
    if (destroy.code !== 0) {
        log(`destroy failed:\n${destroy.out.slice(-3000)}`);
    }
    run.left = [
        ...(destroy.code === 0 ? [] : [`destroy exit ${destroy.code}: ${destroy.out.slice(-300)}`]),
        ...(await nodes()).map((n) => `Node ${n.metadata!.name}`),
        ...leases.filter((l) => l.startsWith(`hollow-node-${STACK}-`)).map((l) => `Lease ${l}`),
        ...csrs.map((c) => `CSR ${c.metadata!.name}`),
    ];
    log(`destroy: exit ${destroy.code} after ${destroy.seconds.toFixed(1)}s; left: ${run.left.length}`);
    if (timeline) {
        // Deletes still on their way through the watches.
        await sleep(3000);
        timeline.stop();
        run.timeline = breakdown(timeline, { start: upStart, end: upEnd, log: up.lines }, { start: destroyStart, end: destroyEnd, log: destroy.lines },
            TERMINATION_GRACE_SECONDS);
        for (const [name, r] of [["up", up], ["destroy", destroy]] as const) {
            fs.writeFileSync(path.join(OUT, `density-${name}.log`), r.lines.map((l) => `${new Date(l.at).toISOString()} ${l.text}`).join("\n"));
        }
        fs.writeFileSync(path.join(OUT, "density-timeline.md"), `${run.timeline.join("\n")}\n`);
        const charts = densitySvgs(timeline, upStart, destroyStart, `${TARGET} hollow Nodes, ${perPod} per pod`);
        fs.mkdirSync(DENSITY_CHARTS, { recursive: true });
        run.charts = [];
        for (const [step, svg] of Object.entries(charts)) {
            const file = `density-${perPod}-per-pod-${step}.svg`;
            fs.writeFileSync(path.join(DENSITY_CHARTS, file), svg);
            run.charts.push(resultsLink(path.join(DENSITY_CHARTS, file)));
        }
        log(`where the time went:\n${run.timeline.join("\n")}`);
    }
    return run;
}

async function main(): Promise<void> {
    requireLab("bench:density");
    stopOn("SIGINT");
    stopOn("SIGTERM");
    const started = performance.now();
    const upLab = await freshLab();
    let layouts: LayoutRow[] = [];
    const densities: DensityRun[] = [];
    let image = "";
    // Whatever fails from here on, the stack is destroyed before the lab stops: a lab stopped under a live stack
    // would leave its Nodes, Leases and CSRs in the target's etcd.
    try {
        ({ project, image } = await labStack(STACK, upLab));
        if (ONLY.includes("layouts")) {
            layouts = await layoutRows();
        }
        if (ONLY.includes("knobs")) {
            layouts.push(...await knobRows());
        }
        if (ONLY.includes("layouts") || ONLY.includes("knobs")) {
            await cli(["destroy", "--yes", "--skip-preview"]);
        }
        if (ONLY.includes("density")) {
            for (const perPod of PER_POD) {
                densities.push(await densityRun(densityRequests(layouts), perPod));
            }
        }
    } finally {
        if (project) {
            await destroyStack();
        }
        await lab("down");
    }
    const md = densityMarkdown({ layouts, densities, minutes: (performance.now() - started) / 60000, image });
    // A density-only run replaces just its own table in the committed section; other partial runs stay beside the
    // build.
    const out = ONLY === ALL ? writeDensitySection(md) : ONLY === "density" ? writeDensityRun(md)
        : path.join(BENCH_BUILD, "results-density-partial.md");
    if (ONLY !== ALL && ONLY !== "density") {
        fs.writeFileSync(out, md);
    }
    console.log(md);
    console.log(`\nwritten to ${out}`);
}

/** The CLI on the density stack, every output line stamped with when it arrived (for the timeline). */
function pulumiTimed(args: string[]): Promise<Run & { lines: TimedLine[] }> {
    const started = Date.now();
    const child = spawn("pulumi", [...args, "--stack", STACK, "--non-interactive"], { cwd: project, env: cliEnv(project, {}), stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const lines: TimedLine[] = [];
    const partial = { stdout: "", stderr: "" };
    const take = (stream: "stdout" | "stderr") => (d: Buffer) => {
        out += d;
        const text = partial[stream] + d.toString();
        const parts = text.split("\n");
        partial[stream] = parts.pop() ?? "";
        const at = Date.now();
        lines.push(...parts.map((t) => ({ at, text: t })));
    };
    child.stdout.on("data", take("stdout"));
    child.stderr.on("data", take("stderr"));
    return new Promise((resolve) => {
        child.on("error", (e) => resolve({ code: 127, out: `${out}cannot run pulumi: ${e.message}`, seconds: (Date.now() - started) / 1000, lines }));
        child.on("close", (code) => resolve({ code: code ?? 1, out, seconds: (Date.now() - started) / 1000, lines }));
    });
}

/**
 * Destroys the stack, up to 3 times: a destroy right after 300 hollow Nodes can fail on an API server too busy to
 * answer (bench/README.md). Keeps the project folder, and says where, if none succeeded.
 */
async function destroyStack(): Promise<void> {
    for (let attempt = 1; attempt <= 3; attempt++) {
        const run = await pulumi(project, STACK, ["destroy", "--yes", "--skip-preview"]);
        if (run.code === 0) {
            log(`stack destroyed (${run.seconds.toFixed(1)}s)`);
            fs.rmSync(project, { recursive: true, force: true });
            return;
        }
        log(`pulumi destroy, try ${attempt} of 3, failed after ${run.seconds.toFixed(1)}s:\n${run.out.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 10_000));
    }
    log(`the stack could not be destroyed; its project and state are in ${project}`);
}

/**
 * The density run's requests: what one hollow node used at 10 per pod in this run's layout rows (rounded up, RSS
 * with a quarter on top), so that TARGET of them can be placed on the worker's 2 CPUs. The defaults add headroom
 * for churn and would place fewer; DENSITY_*_CPU / _MEMORY override.
 */
function densityRequests(layouts: readonly LayoutRow[]): Record<string, string> {
    const row = layouts.find((r) => r.perPod === 10 && r.proxy && r.load === "idle");
    const per = (total: number, count: number) => total / Math.max(1, count);
    const cpu = (m: number) => `${Math.max(1, Math.ceil(m))}m`;
    const mem = (mib: number) => `${Math.ceil(mib * 1.25)}Mi`;
    return {
        kubeletCpu: process.env.DENSITY_KUBELET_CPU ?? (row ? cpu(per(row.usage.kubeletCpuM, row.usage.kubelets)) : "5m"),
        kubeletMemory: process.env.DENSITY_KUBELET_MEMORY ?? (row ? mem(per(row.usage.kubeletRssMiB, row.usage.kubelets)) : "24Mi"),
        proxyCpu: process.env.DENSITY_PROXY_CPU ?? (row ? cpu(per(row.usage.proxyCpuM, row.usage.proxies)) : "1m"),
        proxyMemory: process.env.DENSITY_PROXY_MEMORY ?? (row ? mem(per(row.usage.proxyRssMiB, row.usage.proxies)) : "20Mi"),
    };
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
