// What the lab e2e files share: stacks of this program in the lab, their Nodes and pods, figures and log checks.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { STACK_LABEL_KEY } from "../components/config/settings";
import { buildImage } from "../lab/buildImage";
import { clientsOf, DOCKER_ENV, hollowLogRefusals, kubeconfigFile, REGISTRY, spread } from "../lab/lab";
import { copyProject, pulumi } from "../test/harness/pulumiCli";

const figures: string[] = [];

/** A measured figure: printed now, and again in the summary at the end of the file's run. */
export function report(line: string): void {
    figures.push(line);
    console.log(`[e2e] ${line}`);
}

export function printFigures(): void {
    console.log(`\n[e2e] figures:\n${figures.map((f) => `  ${f}`).join("\n")}`);
}

export const selectorOf = (stack: string) => `${STACK_LABEL_KEY}=kubemark.${stack}`;

export const isReady = (n: { status?: { conditions?: { type: string; status: string }[] } }) =>
    (n.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");

export async function hollowNodes(selector: string) {
    return (await clientsOf("target").core.listNode({ labelSelector: selector })).items;
}

/** The namespace's pods that are not going away. */
export async function hollowPods(namespace: string) {
    return (await clientsOf("node").core.listNamespacedPod({ namespace })).items.filter((p) => !p.metadata?.deletionTimestamp);
}

/**
 * Builds and pushes a release's image into the lab registry twice: the second build of the same release and patches
 * must be the same image. Its digest reference.
 */
export async function labImage(version: string): Promise<string> {
    const env = { ...process.env, ...DOCKER_ENV };
    const cold = await buildImage(version, REGISTRY, env);
    const warm = await buildImage(version, REGISTRY, env);
    assert.equal(warm.digestRef, cold.digestRef, "a rebuild of the same release and patches is the same image");
    const total = (s: Record<string, number>) => Object.values(s).reduce((a, b) => a + b, 0);
    report(`image ${version}: first build and push this run ${total(cold.seconds).toFixed(1)}s ` +
        `(${Object.entries(cold.seconds).map(([k, v]) => `${k} ${v.toFixed(1)}s`).join(", ")}); again ${total(warm.seconds).toFixed(1)}s`);
    return cold.digestRef;
}

/** Stacks of one copy of the program, each made from Pulumi.lab.yaml and pointed at the lab's clusters. */
export class LabStacks {
    readonly project = copyProject(["Pulumi.lab.yaml"]);
    private readonly stacks: string[] = [];

    cli(stack: string, args: string[]) {
        return pulumi(this.project, stack, args);
    }

    async create(stack: string, config: [string, string][]): Promise<void> {
        if (stack !== "lab") {
            fs.copyFileSync(`${this.project}/Pulumi.lab.yaml`, `${this.project}/Pulumi.${stack}.yaml`);
        }
        assert.equal((await this.cli(stack, ["stack", "init"])).code, 0);
        this.stacks.push(stack);
        await this.configure(stack, [["nodeKubeconfig", kubeconfigFile("node")], ["targetKubeconfig", kubeconfigFile("target")], ...config]);
    }

    async configure(stack: string, values: [string, string][]): Promise<void> {
        for (const [k, v] of values) {
            const set = await this.cli(stack, ["config", "set", k, v]);
            assert.equal(set.code, 0, `config set ${k}: ${set.out}`);
        }
    }

    /** `pulumi up`, which must succeed; its seconds. */
    async up(stack: string): Promise<number> {
        const run = await this.cli(stack, ["up", "--yes", "--skip-preview"]);
        assert.equal(run.code, 0, run.out);
        return run.seconds;
    }

    async destroy(stack: string): Promise<number> {
        const run = await this.cli(stack, ["destroy", "--yes", "--skip-preview"]);
        assert.equal(run.code, 0, run.out);
        return run.seconds;
    }

    /** Destroys every stack (newest first, whatever state a failed test left) and removes the copy. */
    async cleanUp(): Promise<void> {
        for (const stack of [...this.stacks].reverse()) {
            await this.cli(stack, ["destroy", "--yes", "--skip-preview"]);
        }
        fs.rmSync(this.project, { recursive: true, force: true });
    }
}

/**
 * No line of any hollow container of the namespace says it was refused (403) or asked for an unserved resource; a
 * race of the Node authorizer's graph (lab/lab.ts NODE_GRAPH_RACE) is counted, not failed.
 */
export async function noRefusals(namespace: string, what: string): Promise<void> {
    const { lines, races, containers } = await hollowLogRefusals(namespace);
    report(`${what}: ${lines.length} refusals in the logs of ${containers} hollow containers (${races.length} races of the Node authorizer's graph)`);
    assert.deepEqual(lines.slice(0, 20), [], `${lines.length} refusals`);
    assert.ok(containers > 0, "no hollow container to read");
}

/** Every pod's containers run, none restarted. */
export async function allRunning(namespace: string): Promise<void> {
    for (const pod of await hollowPods(namespace)) {
        for (const st of pod.status?.containerStatuses ?? []) {
            assert.ok(st.state?.running && st.restartCount === 0, `${pod.metadata?.name}/${st.name}: ${JSON.stringify(st.state)}, ${st.restartCount} restarts`);
        }
    }
}

export function reportUsage(n: number, usage: Map<string, Record<string, { memoryMiB: number; rssMiB: number; millicores: number }>>): void {
    assert.equal(usage.size, n, `stats for ${usage.size} of ${n} hollow pods`);
    for (const container of ["hollow-kubelet", "hollow-proxy"]) {
        const of = (k: "memoryMiB" | "millicores") => spread([...usage.values()].map((p) => p[container]?.[k] ?? 0));
        const mem = of("memoryMiB");
        const cpu = of("millicores");
        assert.ok(mem.min > 0, `${container}: no memory reading`);
        report(`N = ${n}, ${container}: working set ${mem.mean.toFixed(1)} MiB (${mem.min.toFixed(1)}-${mem.max.toFixed(1)}), ` +
            `CPU ${cpu.mean.toFixed(1)}m (${cpu.min.toFixed(1)}-${cpu.max.toFixed(1)}) per pod`);
    }
}

/** The line the podips patch logs when a runtime starts allocating, and where it learnt the podCIDR. */
const LEARNT = /Pod IPs: allocating from the Node's podCIDR.* from="(\w+)"/;

/**
 * Where each hollow kubelet's runtime learnt its Node's podCIDR: `kubelet` (its node status sync) or `Node` (the
 * patch's own read, for a sandbox made before that sync), or `none` yet. Counts per source.
 */
export async function podCidrSources(hollowNamespace: string): Promise<Record<string, number>> {
    const node = clientsOf("node").core;
    const counts: Record<string, number> = {};
    for (const pod of await hollowPods(hollowNamespace)) {
        for (const c of (pod.spec?.containers ?? []).filter((x) => x.name.startsWith("hollow-kubelet"))) {
            const log = await node.readNamespacedPodLog({ name: pod.metadata!.name!, namespace: hollowNamespace, container: c.name });
            const source = LEARNT.exec(log)?.[1] ?? "none";
            counts[source] = (counts[source] ?? 0) + 1;
        }
    }
    return counts;
}

/**
 * For pods whose address failed a check: each pod's IP and sandbox time, its Node's podCIDR and when the Node was
 * made, and what its hollow kubelet logged about the podCIDR (node `<pod>-<k>` runs in container `hollow-kubelet-<k>`).
 */
export async function podCidrEvidence(hollowNamespace: string, namespace: string, selector: string): Promise<string> {
    const target = clientsOf("target").core;
    const node = clientsOf("node").core;
    const lines: string[] = [];
    for (const p of (await target.listNamespacedPod({ namespace, labelSelector: selector })).items) {
        const nodeName = p.spec?.nodeName ?? "";
        const n = await target.readNode({ name: nodeName });
        const slot = /^(.*)-(\d+)$/.exec(nodeName);
        const [pod, container] = (await hollowPods(hollowNamespace)).some((h) => h.metadata!.name === nodeName) || !slot
            ? [nodeName, "hollow-kubelet"] : [slot[1], `hollow-kubelet-${slot[2]}`];
        const log = await node.readNamespacedPodLog({ name: pod, namespace: hollowNamespace, container }).catch((e: Error) => `log: ${e.message}`);
        const cidrLines = log.split("\n").filter((l) => /Pod CIDR|Pod IPs|podCIDR/i.test(l)).slice(0, 5);
        lines.push(`${p.metadata!.name} ${p.status?.podIP} started ${p.status?.startTime?.toISOString()} on ${nodeName} ` +
            `(podCIDR ${n.spec?.podCIDR}, created ${n.metadata?.creationTimestamp?.toISOString()}):\n    ${cidrLines.join("\n    ")}`);
    }
    return lines.join("\n");
}
