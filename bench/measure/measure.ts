// npm run bench:measure: npm run measure's load (and churn) at scale in the lab, its reports kept in bench/reports/.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { labMetricsArgs } from "../../lab/constants";
import { lab } from "../../lab/lab";
import { startMeasure } from "../../test/harness/measureLoad";
import { pulumi } from "../../test/harness/pulumiCli";
import { machineBusySeconds } from "../common/cgroups";
import { freshLab, labStack, stackCli, requireLab } from "../common/labStack";
import { reportsOf, resultsLink } from "../common/paths";
import { writeSection } from "../common/sections";

const STACK = "measure";
const env = (k: string, d: number) => Number(process.env[k] ?? d);
const N = env("MEASURE_N", 300);
const PER_POD = env("MEASURE_PER_POD", 10);
/** CL2's load defaults: 30 pods per Node (testing/load/config.yaml). */
const PODS_PER_NODE = env("MEASURE_PODS_PER_NODE", 30);
const HOLD_S = env("MEASURE_HOLD_S", 30);
const KILLS = env("MEASURE_KILLS", 3);
/** Bound on the load's run: a saturated lab can take hours; the report then covers what ran, and says it stopped. */
const TIMEOUT_S = env("MEASURE_TIMEOUT_S", 10800);
/** Requests per hollow node that place 300 at 10 per pod on the lab's 2-CPU worker (bench:density's figures). */
const REQUESTS = { kubeletCpu: "5m", kubeletMemory: "24Mi", proxyCpu: "1m", proxyMemory: "20Mi" };
/** One section per N, so that a smaller run beside the 300 one (what holds) keeps both. */
const MEASURE_MARKER = `<!-- measure N=${N}: written by npm run bench:measure; npm run bench keeps it -->`;
const OUT = path.join(reportsOf("measure"), String(N));

const log = (m: string) => console.log(`[bench:measure ${new Date().toISOString().slice(11, 19)}] ${m}`);
let project = "";

const cli = (args: string[]) => stackCli(project, STACK, args);

interface Step { name: string; code: number; seconds: number; busyCores: number; out: string }

/** One `npm run measure` scenario into bench/reports/measure/<N>/<name>/, its output streamed with a prefix. */
async function scenario(name: string, args: string[]): Promise<Step> {
    const dir = path.join(OUT, name);
    fs.rmSync(dir, { recursive: true, force: true });
    const busy0 = machineBusySeconds();
    const t0 = performance.now();
    const run = startMeasure(project, ["--stack", STACK, ...args, "--output", dir]);
    let shown = 0;
    const tail = setInterval(() => {
        const out = run.output();
        const lines = out.slice(shown).split("\n");
        const done = lines.pop() ?? "";
        shown = out.length - done.length;
        lines.filter((l) => l.trim()).forEach((l) => log(`${name}: ${l}`));
    }, 1000);
    const { code, out } = await run.done;
    clearInterval(tail);
    const seconds = (performance.now() - t0) / 1000;
    return { name, code, seconds, busyCores: (machineBusySeconds() - busy0) / seconds, out };
}

/** The report's markdown, its chart links pointing into bench/reports/measure/<N>/<name>/, its title a level down. */
function embedded(step: Step): string {
    const file = path.join(OUT, step.name, "report.md");
    if (!fs.existsSync(file)) {
        return `No report: \`npm run measure\` exited ${step.code}:\n\n\`\`\`\n${step.out.slice(-2500)}\n\`\`\`\n`;
    }
    return fs.readFileSync(file, "utf8")
        .replace(/^# /m, "### ").replace(/^## /gm, "#### ")
        .replace(/\]\(([^)/]+\.svg)\)/g, `](${resultsLink(path.join(OUT, step.name))}/$1)`);
}

async function main(): Promise<void> {
    requireLab("bench:measure");
    const started = performance.now();
    const upLab = await freshLab();
    const steps: Step[] = [];
    let up = { seconds: 0, busyCores: 0 };
    let destroySeconds = 0;
    let image = "";
    // Whatever fails, the stack is destroyed before the lab stops (its Nodes, Leases and CSRs would stay in etcd).
    try {
        ({ project, image } = await labStack(STACK, upLab, {
            replicas: String(N), nodesPerPod: String(PER_POD), hollowProxy: "true", readyTimeoutSeconds: "1800", ...REQUESTS,
        }));
        log(`pulumi up: ${N} hollow Nodes, ${PER_POD} per pod`);
        const busy0 = machineBusySeconds();
        const run = await cli(["up", "--yes", "--skip-preview"]);
        up = { seconds: run.seconds, busyCores: (machineBusySeconds() - busy0) / run.seconds };
        log(`up: ${up.seconds.toFixed(1)}s`);
        steps.push(await scenario("load", ["--pods-per-node", String(PODS_PER_NODE), "--hold-seconds", String(HOLD_S),
            "--phase-timeout-seconds", "1800", "--timeout-seconds", String(TIMEOUT_S), ...labMetricsArgs()]));
        log(`load: exit ${steps[0].code} after ${steps[0].seconds.toFixed(0)}s`);
        if (KILLS > 0) {
            steps.push(await scenario("churn", ["--scenario", "churn", "--kills", String(KILLS), ...labMetricsArgs()]));
            log(`churn: exit ${steps[1].code} after ${steps[1].seconds.toFixed(0)}s`);
        }
    } finally {
        if (project) {
            const run = await pulumi(project, STACK, ["destroy", "--yes", "--skip-preview"]);
            destroySeconds = run.seconds;
            log(`destroy: exit ${run.code} after ${run.seconds.toFixed(1)}s${run.code === 0 ? "" : `:\n${run.out.slice(-2000)}`}`);
            if (run.code === 0) {
                fs.rmSync(project, { recursive: true, force: true });
            } else {
                log(`the stack's project and state are left in ${project}`);
            }
        }
        await lab("down");
    }
    const md = [
        MEASURE_MARKER,
        `## npm run measure at ${N} hollow Nodes in the lab`,
        "",
        `- date: ${new Date().toISOString()}; run took ${((performance.now() - started) / 60000).toFixed(1)} min; image ${image}`,
        `- machine: ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB; the worker, both clusters and the load generator share it`,
        `- stack: ${N} hollow Nodes, ${PER_POD} per pod, hollow proxy on, requests ${Object.entries(REQUESTS).map(([k, v]) => `${k} ${v}`).join(", ")}`,
        `- load: ClusterLoader2's (\`--scenario load\`), ${PODS_PER_NODE} pods per hollow Node, held ${HOLD_S} s; control-plane health from the target's own /metrics`,
        `- pulumi up: ${up.seconds.toFixed(1)}s (${up.busyCores.toFixed(2)} cores busy); pulumi destroy after the runs: ${destroySeconds.toFixed(1)}s`,
        ...steps.map((s) => `- ${s.name}: \`npm run measure\` exit ${s.code} after ${s.seconds.toFixed(0)}s, whole machine ` +
            `${s.busyCores.toFixed(2)} of ${os.cpus().length} cores busy`),
        "",
        ...steps.map(embedded),
    ].join("\n");
    const file = writeSection(MEASURE_MARKER, md);
    console.log(md);
    log(`written to ${file} and ${OUT}`);
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
