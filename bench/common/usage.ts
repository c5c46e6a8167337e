// What hollow pods use, read off their cgroups on the lab worker: CPU over a window, RSS at its end, per container.
import { clientsOf } from "../../lab/lab";
import { PodRef, readPod } from "./cgroups";

/** Summed over a namespace's hollow pods; divide by `kubelets` or `proxies` for one hollow node's share. */
export interface Usage { pods: number; kubeletCpuM: number; proxyCpuM: number; kubeletRssMiB: number; proxyRssMiB: number; kubelets: number; proxies: number }

/** An API call the caller makes patient (bench/common/patient.ts), or not. */
export type Look = <T>(what: string, call: (retried: boolean) => Promise<T>) => Promise<T>;

/** The namespace's live hollow pods with their containers' runtime ids (their cgroup folders). */
export async function hollowPodRefs(namespace: string, look: Look): Promise<PodRef[]> {
    const pods = (await look("list hollow pods", () => clientsOf("node").core.listNamespacedPod({ namespace }))).items
        .filter((p) => !p.metadata?.deletionTimestamp);
    return pods.map((p) => ({
        name: p.metadata!.name!, uid: p.metadata!.uid!,
        containers: (p.status?.containerStatuses ?? []).filter((c) => c.containerID).map((c) => ({ name: c.name, id: c.containerID!.replace(/^\w+:\/\//, "") })),
    }));
}

/** CPU over `windowS` (waited for with `sleep`) and RSS at its end, summed over the namespace's hollow pods. */
export async function usageOver(namespace: string, windowS: number, sleep: (ms: number) => Promise<void>, look: Look): Promise<Usage> {
    const pods = await hollowPodRefs(namespace, look);
    const before = pods.map(readPod);
    await sleep(windowS * 1000);
    const u: Usage = { pods: pods.length, kubeletCpuM: 0, proxyCpuM: 0, kubeletRssMiB: 0, proxyRssMiB: 0, kubelets: 0, proxies: 0 };
    pods.forEach((pod, i) => {
        for (const [name, now] of readPod(pod)) {
            const then = before[i].get(name);
            if (!then) {
                continue;
            }
            const cpuM = (now.cpuNs - then.cpuNs) / (windowS * 1e6);
            const rss = now.rssBytes / 2 ** 20;
            if (name.startsWith("hollow-kubelet")) {
                u.kubeletCpuM += cpuM; u.kubeletRssMiB += rss; u.kubelets++;
            } else if (name.startsWith("hollow-proxy")) {
                u.proxyCpuM += cpuM; u.proxyRssMiB += rss; u.proxies++;
            }
        }
    });
    return u;
}
