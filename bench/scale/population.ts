// Builds a population of Nodes shaped like real hollow Nodes (plus Leases, foreign Nodes and, for sweeps, Pods).
import { forEachLimited } from "../../components/kube/async";
import { STACK_LABEL_KEY } from "../../components/config/settings";
import { METADATA_LIST_ACCEPT } from "../../components/kube/clusterApi";
import { Kube } from "./kube";

export const SELECTOR = `${STACK_LABEL_KEY}=kubemark.bench`;
export const POD_NAMESPACE = "kubemark-bench";
export const POD_SELECTOR = "app.kubernetes.io/instance=hollow-node-bench";
const CREATE_CONCURRENCY = 32;

export const hollowName = (i: number) => `hollow-node-${String(i).padStart(5, "0")}`;

/** Foreign Nodes the bench must never touch: another stack's hollow Nodes and a real worker without the label. */
export const FOREIGN: { name: string; labels: Record<string, string> }[] = [
    { name: "other-hollow-0", labels: { [STACK_LABEL_KEY]: "kubemark.other", "hollow-node": "true" } },
    { name: "other-hollow-1", labels: { [STACK_LABEL_KEY]: "kubemark.other", "hollow-node": "true" } },
    { name: "worker-1", labels: {} },
];

function nodeBody(name: string, extraLabels: Record<string, string>, ready: boolean, index: number): unknown {
    const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    const cond = (type: string, status: string, reason: string) =>
        ({ type, status, reason, message: reason, lastHeartbeatTime: now, lastTransitionTime: now });
    const resources = { cpu: "1", memory: "3840Mi", pods: "110", "ephemeral-storage": "10Gi" };
    return {
        apiVersion: "v1", kind: "Node",
        metadata: {
            name,
            labels: {
                "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", ...extraLabels,
            },
            annotations: { "node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true" },
        },
        spec: extraLabels["hollow-node"] ? { taints: [{ key: "kubemark-pulumi/hollow-node", value: "true", effect: "NoSchedule" }] } : {},
        // Nodes accept status on create, as a kubelet's registration does; one request per Node.
        status: {
            capacity: resources, allocatable: resources,
            conditions: [
                cond("MemoryPressure", "False", "KubeletHasSufficientMemory"),
                cond("DiskPressure", "False", "KubeletHasNoDiskPressure"),
                cond("PIDPressure", "False", "KubeletHasSufficientPID"),
                ready ? cond("Ready", "True", "KubeletReady") : cond("Ready", "False", "KubeletNotReady"),
            ],
            addresses: [
                { type: "InternalIP", address: `10.${64 + (index >> 16)}.${(index >> 8) & 255}.${index & 255}` },
                { type: "Hostname", address: name },
            ],
            daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
            nodeInfo: {
                machineID: "", systemUUID: "", bootID: "", kernelVersion: "6.1.0", osImage: "Debian GNU/Linux 12 (bookworm)",
                containerRuntimeVersion: "fakeRuntime://0.1.0", kubeletVersion: "v1.31.0", kubeProxyVersion: "v1.31.0",
                operatingSystem: "linux", architecture: "amd64",
            },
        },
    };
}

function leaseBody(name: string, uid: string): unknown {
    return {
        apiVersion: "coordination.k8s.io/v1", kind: "Lease",
        // The kubelet owns its Lease through the Node, as a real one does (no GC runs here, so it changes nothing).
        metadata: { name, namespace: "kube-node-lease", ownerReferences: [{ apiVersion: "v1", kind: "Node", name, uid }] },
        spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: new Date().toISOString().replace("Z", "000Z") },
    };
}

async function nodeWithLease(kube: Kube, name: string, labels: Record<string, string>, ready: boolean, index: number): Promise<void> {
    const node = await kube.must("POST", "/api/v1/nodes", nodeBody(name, labels, ready, index));
    await kube.must("POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", leaseBody(name, node.metadata.uid));
}

export interface PopulationOptions { readonly n: number; readonly notReady?: number }

/** Creates N hollow Nodes with Leases plus the foreign ones; the last `notReady` hollow Nodes report Ready=False. */
export async function createPopulation(kube: Kube, opts: PopulationOptions): Promise<string[]> {
    const names = Array.from({ length: opts.n }, (_, i) => hollowName(i));
    const hollow = { [STACK_LABEL_KEY]: "kubemark.bench", "hollow-node": "true" };
    const failures = await forEachLimited(names.map((name, i) => ({ name, i })), CREATE_CONCURRENCY,
        ({ name, i }) => nodeWithLease(kube, name, hollow, i < opts.n - (opts.notReady ?? 0), i));
    for (const [i, f] of FOREIGN.entries()) {
        await nodeWithLease(kube, f.name, f.labels, true, 60000 + i);
    }
    if (failures.length > 0) {
        throw new Error(`population: ${failures.length} create(s) failed: ${(failures[0] as Error).message}`);
    }
    return names;
}

/** Pods for `names` in the bench namespace: never scheduled (no scheduler), only their names matter to the sweep. */
export async function createPods(kube: Kube, names: readonly string[]): Promise<void> {
    await kube.must("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: POD_NAMESPACE } });
    // No controller manager creates the default ServiceAccount, and admission requires it for Pods.
    await kube.must("POST", `/api/v1/namespaces/${POD_NAMESPACE}/serviceaccounts`, { metadata: { name: "default" } });
    const [k, v] = POD_SELECTOR.split("=");
    const failures = await forEachLimited(names, CREATE_CONCURRENCY, async (name) => {
        await kube.must("POST", `/api/v1/namespaces/${POD_NAMESPACE}/pods`, {
            metadata: { name, labels: { [k]: v } },
            spec: { automountServiceAccountToken: false, containers: [{ name: "hollow-kubelet", image: "registry.k8s.io/pause:3.10" }] },
        });
    });
    if (failures.length > 0) {
        throw new Error(`pods: ${failures.length} create(s) failed: ${(failures[0] as Error).message}`);
    }
}

/** Sets a hollow Node's Ready condition, as its kubelet would; returns after the status write. */
export async function setReady(kube: Kube, name: string, ready: boolean): Promise<void> {
    const node = await kube.must("GET", `/api/v1/nodes/${name}`);
    const c = node.status.conditions.find((x: { type: string }) => x.type === "Ready");
    c.status = ready ? "True" : "False";
    c.reason = ready ? "KubeletReady" : "KubeletNotReady";
    c.lastTransitionTime = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    await kube.must("PUT", `/api/v1/nodes/${name}/status`, node);
}

/** How many of the foreign Nodes and their Leases are missing or changed since `before`; 0 is the only good answer. */
export async function foreignFingerprint(kube: Kube): Promise<string[]> {
    const out: string[] = [];
    for (const f of FOREIGN) {
        const n = await kube.request("GET", `/api/v1/nodes/${f.name}`, undefined, "application/json");
        const l = await kube.request("GET", `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${f.name}`);
        const rv = (r: { status: number; body: string }) => r.status === 200 ? JSON.parse(r.body).metadata.resourceVersion : `gone:${r.status}`;
        out.push(`${f.name}:${rv(n)}:${rv(l)}`);
    }
    return out;
}

/** True when no Node with the selector and none of `names`' Leases remain (foreign Leases are counted out). */
export async function allGone(kube: Kube): Promise<boolean> {
    // limit=1: the poller only needs to know whether any is left, and must stay cheap next to the method it times.
    const nodes = await kube.must("GET", `/api/v1/nodes?labelSelector=${encodeURIComponent(SELECTOR)}&limit=1`, undefined, METADATA_LIST_ACCEPT);
    if ((nodes.items ?? []).length > 0) {
        return false;
    }
    const leases = await kube.must("GET", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases?limit=1", undefined, METADATA_LIST_ACCEPT);
    const total = (leases.items ?? []).length + (leases.metadata.remainingItemCount ?? 0);
    return total <= FOREIGN.length;
}
