// Pods bound by nodeName to every hollow Node of a stack: the busy-kubelet load of the lab benches, exactly N per Node.
import { performance } from "node:perf_hooks";
import { clientsOf } from "../../lab/lab";
import type { Look } from "./usage";

const LOAD_LABEL = "density-load=true";

/** Binds `perNode` pods to every Node of `selector` (by nodeName: exactly that many each); seconds until all run. */
export async function bindPods(selector: string, perNode: number, look: Look, sleep: (ms: number) => Promise<void>): Promise<number> {
    const { core } = clientsOf("target");
    const names = (await look("list hollow Nodes", () => core.listNode({ labelSelector: selector }))).items.map((n) => n.metadata!.name!);
    const started = performance.now();
    const bodies = names.flatMap((node) => Array.from({ length: perNode }, (_, i) => ({
        metadata: { name: `load-${node}-${i}`, labels: { "density-load": "true" } },
        spec: { nodeName: node, tolerations: [{ key: "kubemark-pulumi/hollow-node", operator: "Exists" }], containers: [{ name: "app", image: "registry.example/app:1" }] },
    })));
    for (let i = 0; i < bodies.length; i += 50) {
        // A create that got no answer may have gone through: on a retry, one that exists is done.
        await Promise.all(bodies.slice(i, i + 50).map((body) => look(`create pod ${body.metadata.name}`, (retried) =>
            core.createNamespacedPod({ namespace: "default", body }).catch((e) => {
                if (retried && (e as { code?: number }).code === 409) {
                    return undefined;
                }
                throw e;
            }))));
    }
    for (;;) {
        const pods = (await look("list load pods", () => core.listNamespacedPod({ namespace: "default", labelSelector: LOAD_LABEL }))).items;
        if (pods.filter((p) => p.status?.phase === "Running").length >= bodies.length) {
            return (performance.now() - started) / 1000;
        }
        if (performance.now() - started > 600_000) {
            throw new Error(`only ${pods.filter((p) => p.status?.phase === "Running").length}/${bodies.length} load pods Running after 600s`);
        }
        await sleep(2000);
    }
}

/** Deletes the bound pods at once and waits until they are gone. */
export async function unbindPods(look: Look, sleep: (ms: number) => Promise<void>): Promise<void> {
    const { core } = clientsOf("target");
    await look("delete load pods", () => core.deleteCollectionNamespacedPod({ namespace: "default", labelSelector: LOAD_LABEL, gracePeriodSeconds: 0 }));
    for (;;) {
        if ((await look("list load pods", () => core.listNamespacedPod({ namespace: "default", labelSelector: LOAD_LABEL }))).items.length === 0) {
            return;
        }
        await sleep(1000);
    }
}

/** The bound pods' distinct IPs: one per pod with the podips patch, one for all without it. */
export async function boundPodIps(look: Look): Promise<{ pods: number; distinct: number }> {
    const pods = (await look("list load pods", () => clientsOf("target").core.listNamespacedPod({ namespace: "default", labelSelector: LOAD_LABEL }))).items;
    return { pods: pods.length, distinct: new Set(pods.map((p) => p.status?.podIP).filter(Boolean)).size };
}
