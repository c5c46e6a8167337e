// npm run bench:fleet: what the fleet patches (capacity, pod IPs, pods that finish) cost a hollow node, idle and busy,
// beside an image without them, on the lab's one real worker.
import * as os from "node:os";
import { performance } from "node:perf_hooks";
import { NEWEST_TESTED } from "../../components/config/releases";
import { STACK_LABEL_KEY } from "../../components/config/settings";
import { buildImage } from "../../lab/buildImage";
import { DOCKER_ENV, lab, REGISTRY } from "../../lab/lab";
import { boundPodIps, bindPods, unbindPods } from "../common/boundPods";
import { machineBusySeconds } from "../common/cgroups";
import { freshLab, labStack, requireLab, stackCli } from "../common/labStack";
import { patient } from "../common/patient";
import { writeSection } from "../common/sections";
import { Usage, usageOver } from "../common/usage";

const STACK = "fleet";
const NS = `kubemark-${STACK}`;
const SELECTOR = `${STACK_LABEL_KEY}=kubemark.${STACK}`;
const env = (k: string, d: number) => Number(process.env[k] ?? d);
/** Hollow nodes of each run: three pods of 10, as bench:density's layout rows. */
const NODES = env("FLEET_NODES", 30);
const PER_POD = env("FLEET_PER_POD", 10);
const PODS_PER_NODE = env("FLEET_PODS_PER_NODE", 10);
const SETTLE_S = env("FLEET_SETTLE_S", 30);
const WINDOW_S = env("FLEET_WINDOW_S", 60);
const MARKER = "<!-- fleet: written by npm run bench:fleet; npm run bench keeps it -->";
/** Capacity of the pool in the "capacity" runs: a real machine's shape, what the patch reports. */
const CAPACITY = { cpu: "8", memory: "32Gi", ephemeralStorage: "100Gi" };

const log = (m: string) => console.log(`[bench:fleet ${new Date().toISOString().slice(11, 19)}] ${m}`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const look = <T>(what: string, call: (retried: boolean) => Promise<T>) => patient(what, call, log);

interface Variant { readonly name: string; readonly fleet: boolean; readonly capacity: boolean }
interface Row { variant: string; load: string; usage: Usage; podIps?: { pods: number; distinct: number }; busyCores: number }

/** Runs in this order; the first again at the end, so the spread of one image's two runs shows what noise is. */
const VARIANTS: Variant[] = [
    { name: "without the fleet patches", fleet: false, capacity: false },
    { name: "with the fleet patches", fleet: true, capacity: false },
    { name: "with the fleet patches, a pool with capacity", fleet: true, capacity: true },
    { name: "without the fleet patches (again)", fleet: false, capacity: false },
];

async function measured(variant: string, load: string): Promise<Row> {
    const busy0 = machineBusySeconds();
    const t0 = performance.now();
    const usage = await usageOver(NS, WINDOW_S, sleep, look);
    const busyCores = (machineBusySeconds() - busy0) / ((performance.now() - t0) / 1000);
    log(`${variant}, ${load}: ${JSON.stringify(usage)}; machine ${busyCores.toFixed(2)} cores busy`);
    return { variant, load, usage, busyCores };
}

async function runVariant(project: string, v: Variant, images: Record<string, string>): Promise<Row[]> {
    const cli = (args: string[]) => stackCli(project, STACK, args);
    await cli(["config", "set", "image", images[String(v.fleet)]]);
    await cli(["config", "rm", "pools"]).catch(() => undefined);
    await cli(["config", "rm", "replicas"]).catch(() => undefined);
    const pool = { name: "default", replicas: NODES, nodesPerPod: PER_POD, ...(v.capacity ? { capacity: CAPACITY } : {}) };
    for (const [k, value] of Object.entries(pool)) {
        if (typeof value === "object") {
            for (const [ck, cv] of Object.entries(value)) {
                await cli(["config", "set", "--path", `pools[0].${k}.${ck}`, cv]);
            }
        } else {
            await cli(["config", "set", "--path", `pools[0].${k}`, String(value)]);
        }
    }
    const up = await cli(["up", "--yes", "--skip-preview"]);
    log(`${v.name}: ${NODES} Ready in ${up.seconds.toFixed(1)}s; settling ${SETTLE_S}s`);
    await sleep(SETTLE_S * 1000);
    const idle = await measured(v.name, "idle");
    const bound = await bindPods(SELECTOR, PODS_PER_NODE, look, sleep);
    log(`${PODS_PER_NODE} pods on each hollow Node Running after ${bound.toFixed(1)}s`);
    await sleep(SETTLE_S * 1000);
    const busy = { ...(await measured(v.name, `${PODS_PER_NODE} pods per Node`)), podIps: await boundPodIps(look) };
    await unbindPods(look, sleep);
    await cli(["destroy", "--yes", "--skip-preview"]);
    return [idle, busy];
}

const per = (sum: number, n: number) => (n === 0 ? "-" : (sum / n).toFixed(1));

function markdown(rows: Row[], images: Record<string, string>, minutes: number): string {
    const lines = [
        MARKER,
        "## Fleet patches: what a hollow node costs with them",
        "",
        `- date: ${new Date().toISOString()}; run took ${minutes.toFixed(1)} min; ${NODES} hollow nodes at ${PER_POD} per pod, ` +
            `target ${NEWEST_TESTED.text} (its controller manager allocates each Node a podCIDR)`,
        `- images: without ${images.false}; with (capacity, podips, lifecycle) ${images.true}`,
        `- machine: ${os.cpus().length} cores; usage from the worker's pod cgroups: CPU over ${WINDOW_S} s, RSS at its end, per hollow node`,
        "",
        "| image | load | kubelet CPU m | kubelet RSS MiB | proxy CPU m | proxy RSS MiB | bound pods: distinct IPs | machine busy cores |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
        ...rows.map((r) => `| ${r.variant} | ${r.load} | ${per(r.usage.kubeletCpuM, r.usage.kubelets)} | ${per(r.usage.kubeletRssMiB, r.usage.kubelets)} | ` +
            `${per(r.usage.proxyCpuM, r.usage.proxies)} | ${per(r.usage.proxyRssMiB, r.usage.proxies)} | ` +
            `${r.podIps === undefined ? "-" : `${r.podIps.distinct} of ${r.podIps.pods}`} | ${r.busyCores.toFixed(2)} |`),
        "",
    ];
    return lines.join("\n");
}

async function main(): Promise<void> {
    requireLab("bench:fleet");
    const t0 = performance.now();
    const started = await freshLab();
    let project = "";
    try {
        const images: Record<string, string> = {};
        for (const fleet of [false, true]) {
            images[String(fleet)] = (await buildImage(NEWEST_TESTED.text, REGISTRY, { ...process.env, ...DOCKER_ENV }, { fleet })).digestRef;
        }
        ({ project } = await labStack(STACK, started, { image: images.true }));
        const rows: Row[] = [];
        for (const v of VARIANTS) {
            rows.push(...(await runVariant(project, v, images)));
        }
        const file = writeSection(MARKER, markdown(rows, images, (performance.now() - t0) / 60_000));
        log(`written to ${file}`);
        console.log(markdown(rows, images, (performance.now() - t0) / 60_000));
    } finally {
        if (project) {
            await stackCli(project, STACK, ["destroy", "--yes", "--skip-preview"]).catch((e) => log(`destroy: ${e}`));
        }
        await lab("down");
    }
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
