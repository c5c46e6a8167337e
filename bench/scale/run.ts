// Bench entry: node removal, sweep and readiness of the providers against fresh real control planes, as a table.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ControlPlane, toolchainDir } from "../../test/harness/controlPlane";
import { Kube } from "./kube";
import { noopTable, noopUps } from "./noop";
import { kubectlDelete, kubectlNodesThenRawLeases, rawConcurrent, rawDelete, runWorker } from "./methods";
import { allGone, createPods, createPopulation, foreignFingerprint, setReady } from "./population";
import { apiserverPid, openWindow, Window } from "./probe";
import type { Task } from "./worker";
import { BENCH_BUILD, RESULTS, resultsLink } from "../common/paths";
import { REAP_SVG, reapSvg } from "../common/plots";
import { labSections } from "../common/sections";

const REAP_CHART = `![Reap time against N](${resultsLink(REAP_SVG)})`;

interface Row { n: number; op: string; w: Window; rssMb?: number; touched?: number; note?: string }

const quick = process.env.BENCH_QUICK === "1";
const NS = quick ? [500] : (process.env.BENCH_N ?? "500,2000,5000").split(",").map(Number);
// kubectl's own wait takes ~200 s per 1,000 Nodes: only small populations by default.
const KUBECTL_WAIT_MAX = Number(process.env.BENCH_KUBECTL_WAIT_MAX ?? 500);
// kubectl deletes Leases named on its command line at 5 requests/s (client-side rate limit): ~100 s per 500 Nodes, ~17
// min at 5,000.
const KUBECTL_MAX = Number(process.env.BENCH_KUBECTL_MAX ?? 2000);
// A regular expression over the operation names: BENCH_ONLY=reap runs only the reap rows.
const ONLY = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : undefined;
const wanted = (op: string) => !ONLY || ONLY.test(op);
const FLIP_AFTER_MS = 30_000;
const POLL_MS = 250;
const GONE_TIMEOUT_MS = 900_000;

let current: ControlPlane | undefined;
const say = (m: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fresh control plane for one population: earlier deletes leave etcd and watch caches warm or fragmented. */
async function withCluster<T>(label: string, body: (cp: ControlPlane, probe: Kube, actor: Kube, pid: number) => Promise<T>): Promise<T> {
    // No controllers: the garbage collector would delete Leases behind the methods' backs. Issuing needs the signer.
    const cp = await ControlPlane.start(label, label.startsWith("bench-issue") ? "target" : "none");
    current = cp;
    // Two clients: the probe's requests are subtracted from the counters, the actor's (a method's own) are not.
    const probe = Kube.fromKubeconfig(cp.server, cp.kubeconfig);
    const actor = Kube.fromKubeconfig(cp.server, cp.kubeconfig);
    try {
        return await body(cp, probe, actor, apiserverPid(Number(new URL(cp.server).port)));
    } finally {
        probe.close();
        actor.close();
        current = undefined;
        await cp.stop();
    }
}

async function waitGone(probe: Kube): Promise<number> {
    const deadline = Date.now() + GONE_TIMEOUT_MS;
    while (!(await allGone(probe))) {
        if (Date.now() > deadline) {
            throw new Error("Nodes or Leases still present at the bench's deadline");
        }
        await sleep(POLL_MS);
    }
    return Date.now();
}

type Method = { op: string; run: (cp: ControlPlane, actor: Kube, names: string[], n: number) => Promise<{ startMs?: number; rssMb?: number; nodesSeconds?: number }> };

const METHODS: Method[] = [
    {
        op: "reap: NodeReaperProvider.delete", run: async (cp, _a, _names, n) => {
            const out = await runWorker({ task: "reap", kubeconfig: cp.kubeconfig, replicas: n });
            return { startMs: out.startMs, rssMb: out.vmHwmKb / 1024 };
        },
    },
    { op: "reap: kubectl delete --wait=false", run: (cp) => kubectlDelete(cp.kubeconfigFile, false) },
    { op: "reap: kubectl delete nodes -l --wait=false, Leases raw", run: (cp, actor, names) => kubectlNodesThenRawLeases(cp.kubeconfigFile, actor, names) },
    { op: "reap: kubectl delete (waits)", run: (cp) => kubectlDelete(cp.kubeconfigFile, true) },
    { op: "reap: raw deletecollection + 64 Lease deletes", run: async (_cp, actor, names) => { await rawDelete(actor, names); return {}; } },
    { op: "reap: raw 64 concurrent Node + Lease deletes", run: async (_cp, actor, names) => { await rawConcurrent(actor, names); return {}; } },
];

async function reapRow(n: number, m: Method): Promise<Row> {
    return withCluster(`bench-${n}`, async (cp, probe, actor, pid) => {
        const t = Date.now();
        const names = await createPopulation(actor, { n });
        say(`N=${n}: population ready in ${((Date.now() - t) / 1000).toFixed(1)}s; ${m.op}`);
        const foreign = await foreignFingerprint(probe);
        const win = await openWindow(probe, pid);
        const start = Date.now();
        const r = await m.run(cp, actor, names, n);
        const end = await waitGone(probe);
        const w = await win.close(r.startMs ?? start, end);
        const after = await foreignFingerprint(probe);
        const touched = foreign.filter((f, i) => f !== after[i]).length;
        say(`N=${n}: ${m.op}: ${w.wallS.toFixed(1)}s, ${w.requests} requests, ${w.cpuS.toFixed(1)} CPU s, foreign touched ${touched}`);
        const note = r.nodesSeconds === undefined ? undefined : `Nodes alone ${r.nodesSeconds.toFixed(1)} s` +
            (m.op.includes("Leases raw") ? "" : "; Leases by name are rate-limited by kubectl (5/s)");
        return { n, op: m.op, w, rssMb: r.rssMb, touched, note };
    });
}

/** One population with pods behind all but 1% of the Nodes: drift check, one ready count, sweep, then a ready wait. */
async function syncRows(n: number): Promise<Row[]> {
    return withCluster(`bench-sync-${n}`, async (cp, probe, actor, pid) => {
        const stale = Math.max(1, Math.round(n * 0.01));
        const names = await createPopulation(actor, { n });
        await createPods(actor, names.slice(0, n - stale));
        say(`N=${n}: sync population ready (${stale} stale)`);
        const rows: Row[] = [];
        const call = async (op: string, task: Task, replicas: number, during?: (startMs: number) => Promise<void>, note?: (r: unknown) => string) => {
            if (!wanted(op)) {
                return;
            }
            const win = await openWindow(probe, pid);
            let side: Promise<void> = Promise.resolve();
            const out = await runWorker({ task, kubeconfig: cp.kubeconfig, replicas }, () => {
                side = during ? during(Date.now()) : side;
            });
            await side;
            const w = await win.close(out.startMs, out.endMs);
            rows.push({ n, op, w, rssMb: out.vmHwmKb / 1024, note: note?.(out.result) });
            say(`N=${n}: ${op}: ${w.wallS.toFixed(1)}s, ${w.requests} requests, ${w.listNodeMB.toFixed(2)} MB LIST nodes, ${JSON.stringify(out.result)}`);
        };
        await call("diff: HollowNodeSyncProvider.diff (1% stale)", "diff", n - stale, undefined,
            (r) => `changes=${(r as { changes: boolean }).changes}`);
        await call("ready: waitForReady, one count", "readyOnce", n, undefined, (r) => `ready=${(r as { ready: number }).ready}`);
        await call("sweep: sweepStaleNodes (1% stale)", "sweep", n - stale, undefined, (r) => `swept=${(r as { swept: number }).swept}`);
        // The last 1% of the remaining Nodes go NotReady, then Ready again 30 s into the wait, as late kubelets would.
        const late = names.slice(0, n - stale).slice(-stale);
        for (const name of late) {
            await setReady(actor, name, false);
        }
        await call(`ready: waitForReady, last 1% Ready after ${FLIP_AFTER_MS / 1000}s`, "readyWait", n - stale, async () => {
            await sleep(FLIP_AFTER_MS);
            for (const name of late) {
                await setReady(probe, name, true);
            }
        }, (r) => `ready=${(r as { ready: number }).ready}`);
        return rows;
    });
}

/**
 * The first up's certificate issuance for N hollow kubelets, on a fresh control plane with its CSR approver and signer.
 */
async function issueRow(n: number): Promise<Row> {
    return withCluster(`bench-issue-${n}`, async (cp, probe, _actor, pid) => {
        const win = await openWindow(probe, pid);
        const out = await runWorker({ task: "issue", kubeconfig: cp.kubeconfig, replicas: n });
        const w = await win.close(out.startMs, out.endMs);
        const r = out.result as { issued: number; csrDeleteSeconds: number };
        say(`N=${n}: issue: ${w.wallS.toFixed(1)}s, ${w.requests} requests, ${JSON.stringify(r)}`);
        return { n, op: "issue: HollowCredentials create + delete", w, rssMb: out.vmHwmKb / 1024, note: `issued=${r.issued}; CSR deletes ${r.csrDeleteSeconds.toFixed(1)} s` };
    });
}

function table(rows: Row[], idleRssMb: number): string {
    const head = "| N | operation | wall s | requests | apiserver CPU s | LIST nodes MB | GET+LIST responses MB | provider peak RSS MB | foreign touched | note |\n" +
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|\n";
    return head + rows.map((r) => `| ${r.n} | ${r.op} | ${r.w.wallS.toFixed(1)} | ${r.w.requests} | ${r.w.cpuS.toFixed(1)} | ` +
        `${r.w.listNodeMB.toFixed(2)} | ${r.w.responseMB.toFixed(2)} | ${r.rssMb === undefined ? "" : r.rssMb.toFixed(0)} | ` +
        `${r.touched ?? ""} | ${r.note ?? ""} |`).join("\n") + `\n\nProvider peak RSS is the worker process's VmHWM; the same process doing nothing but loading @kubernetes/client-node peaks at ${idleRssMb.toFixed(0)} MB.\n`;
}

async function main(): Promise<void> {
    const started = Date.now();
    const rows: Row[] = [];
    const skipped: string[] = [];
    const idle = await runWorker({ task: "idle", kubeconfig: "", replicas: 0 });
    for (const n of NS) {
        for (const m of METHODS.filter((m) => wanted(m.op))) {
            const cap = m.op.includes("(waits)") ? ["BENCH_KUBECTL_WAIT_MAX", KUBECTL_WAIT_MAX] as const
                : m.op.endsWith("kubectl delete --wait=false") ? ["BENCH_KUBECTL_MAX", KUBECTL_MAX] as const : undefined;
            if (cap && n > cap[1]) {
                skipped.push(`N=${n} ${m.op} (${cap[0]}=${cap[1]})`);
                say(`N=${n}: skipping ${skipped[skipped.length - 1]}`);
                continue;
            }
            rows.push(await reapRow(n, m));
        }
        if (["diff: ", "ready: ", "sweep: "].some(wanted)) {
            rows.push(...await syncRows(n));
        }
        if (wanted("issue: ")) {
            rows.push(await issueRow(n));
        }
    }
    const noop = wanted("noop: ") ? `\n## No-op \`pulumi up\`\n\nA second \`up\` with nothing to change, real CLI and providers, node cluster and target as in the real-cluster tests ` +
        "(the hollow kubelets played by the test loop):\n\n" + noopTable(await noopUps(say)) : "";
    const version = execFileSync(path.join(toolchainDir(), "bin", "kube-apiserver"), ["--version"]).toString().trim();
    const minutes = ((Date.now() - started) / 60000).toFixed(1);
    const md = `# kubemark-pulumi bench\n\n- date: ${new Date().toISOString()}\n- machine: ${os.cpus().length} cores (${os.cpus()[0]?.model}), ` +
        `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB memory, Node.js ${process.version}\n- API server: ${version} (etcd + kube-apiserver on loopback, no controllers; the issue rows add kube-controller-manager with the CSR approver and signer)\n` +
        `- populations: N=${NS.join(", ")} hollow Nodes with Leases, + 3 foreign Nodes; fresh control plane per row group; run took ${minutes} min\n` +
        "- requests: apiserver_request_total delta minus the bench's own probe requests (the API server's own background " +
        "requests, a few per 10 s, stay in); CPU: kube-apiserver utime+stime; bytes: apiserver_response_sizes_sum deltas\n\n" +
        table(rows, idle.vmHwmKb / 1024) + `\n${REAP_CHART}\n` + (skipped.length > 0 ? `\nSkipped: ${skipped.join("; ")}.\n` : "") + noop;
    console.log(md);
    // Only a full run replaces the committed table; partial runs (BENCH_ONLY, BENCH_N, BENCH_QUICK) stay beside the
    // build.
    const full = !ONLY && !quick && !process.env.BENCH_N;
    const out = full ? RESULTS : path.join(BENCH_BUILD, "results-partial.md");
    // The lab's sections come from npm run bench:density and bench:measure, which this run does not repeat.
    const lab = full ? labSections() : "";
    fs.writeFileSync(out, lab ? `${md.trimEnd()}\n\n${lab}` : md);
    say(`wrote ${out}`);
    // A run of other rows only (BENCH_ONLY=^noop) has no reap figures to draw.
    if (rows.some((r) => r.op.startsWith("reap"))) {
        const chart = full ? REAP_SVG : path.join(path.dirname(out), "reap.svg");
        fs.mkdirSync(path.dirname(chart), { recursive: true });
        fs.writeFileSync(chart, reapSvg(md));
        say(`wrote ${chart}`);
    }
}

for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
        void (current?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
    });
}

main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
});
