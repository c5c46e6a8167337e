// The few Kubernetes calls the node reaper and sync make, behind an interface tests can fake.
import type * as k8sClient from "@kubernetes/client-node";

export interface NodeInfo { readonly name: string; readonly ready: boolean }
export interface PodInfo { readonly name: string; readonly terminating: boolean }
/** An object the stack creates under a fixed name. */
export interface ObjectRef {
    readonly apiVersion: string;
    readonly kind: string;
    /** Absent for cluster-scoped objects. */
    readonly namespace?: string;
    readonly name: string;
}
/** What tells who owns an existing object: its labels and the field managers that wrote it. */
export interface ObjectOwnership {
    readonly labels: Readonly<Record<string, string>>;
    readonly managers: readonly string[];
}

/** What the dynamic providers need of a cluster. Deletes resolve false when the object was already gone. */
export interface ClusterApi {
    /** The API server URL, for messages. */
    readonly server: string;
    listNodes(labelSelector: string): Promise<NodeInfo[]>;
    deleteNode(name: string): Promise<boolean>;
    /** Deletes the node's heartbeat Lease in kube-node-lease. */
    deleteNodeLease(name: string): Promise<boolean>;
    /** Pods of the workload; an absent namespace has none. */
    listPods(namespace: string, labelSelector: string): Promise<PodInfo[]>;
    /** The object's labels and managers; undefined when it does not exist. */
    readObject(ref: ObjectRef): Promise<ObjectOwnership | undefined>;
}

export type ClusterApiFactory = (kubeconfig: string, requestTimeoutMs: number) => ClusterApi;

/** Rejects when `p` takes longer than `ms`: an unreachable API server must not hang a destroy. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer within ${Math.round(ms / 1000)}s`)), ms);
    });
    // The losing promise may still reject later; it must not become an unhandled rejection.
    p.catch(() => undefined);
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** A call that got no HTTP answer at all: refused, timed out, DNS, TLS. Duck-typed, as it crosses serialization. */
export interface UnreachableError extends Error {
    readonly unreachable: true;
    readonly server: string;
}

export function unreachableError(server: string, cause: string): UnreachableError {
    return Object.assign(new Error(`no answer from ${server}: ${cause}`), { unreachable: true as const, server });
}

export function isUnreachable(e: unknown): e is UnreachableError {
    return (e as { unreachable?: unknown })?.unreachable === true;
}

function statusCode(e: unknown): number | undefined {
    const code = (e as { code?: unknown }).code;
    return typeof code === "number" ? code : undefined;
}

/** The real ClusterApi over @kubernetes/client-node. Built inside provider methods, never captured. */
export function kubernetesClusterApi(kubeconfig: string, requestTimeoutMs: number): ClusterApi {
    // require, not import: this runs in the dynamic provider process from serialized code.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const k8s = require("@kubernetes/client-node") as typeof k8sClient;
    const kc = new k8s.KubeConfig();
    kc.loadFromString(kubeconfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const coordination = kc.makeApiClient(k8s.CoordinationV1Api);
    const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    const server = kc.getCurrentCluster()?.server ?? "(unknown server)";
    const call = async <T>(p: Promise<T>, what: string): Promise<T> => {
        try {
            return await withTimeout(p, requestTimeoutMs, what);
        } catch (e) {
            if (statusCode(e) === undefined) {
                throw unreachableError(server, (e as Error).message);
            }
            throw e;
        }
    };
    const gone = async (p: Promise<unknown>, what: string): Promise<boolean> => {
        try {
            await call(p, what);
            return true;
        } catch (e) {
            if (statusCode(e) === 404) {
                return false;
            }
            throw e;
        }
    };
    return {
        server,
        async listNodes(labelSelector) {
            const list = await call(core.listNode({ labelSelector }), "list Nodes");
            return list.items.map((n) => ({
                name: n.metadata?.name ?? "",
                ready: (n.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"),
            }));
        },
        deleteNode: (name) => gone(core.deleteNode({ name }), `delete Node ${name}`),
        deleteNodeLease: (name) => gone(
            coordination.deleteNamespacedLease({ name, namespace: "kube-node-lease" }), `delete Lease ${name}`),
        async listPods(namespace, labelSelector) {
            try {
                const list = await call(core.listNamespacedPod({ namespace, labelSelector }), `list Pods in ${namespace}`);
                return list.items.map((p) => ({ name: p.metadata?.name ?? "", terminating: !!p.metadata?.deletionTimestamp }));
            } catch (e) {
                if (statusCode(e) === 404) {
                    return [];
                }
                throw e;
            }
        },
        async readObject(ref) {
            const what = `read ${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ""}${ref.name}`;
            try {
                const found = await call(objects.read({
                    apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace },
                }), what);
                return {
                    labels: found.metadata?.labels ?? {},
                    managers: [...new Set((found.metadata?.managedFields ?? []).map((f) => f.manager ?? "").filter(Boolean))].sort(),
                };
            } catch (e) {
                if (statusCode(e) === 404) {
                    return undefined;
                }
                throw e;
            }
        },
    };
}
