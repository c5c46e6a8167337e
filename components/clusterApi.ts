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

/** Nodes per page of a list: a 5,000-Node cluster answers in pages, never one large response. */
export const LIST_PAGE_SIZE = 500;
/**
 * The API server's own table form (what kubectl get prints), rows only: a Node is a name and a STATUS
 * cell of some dozens of bytes instead of its whole object (conditions, addresses, images, several KB).
 */
export const TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io, application/json";

interface NodeTable {
    kind?: string;
    columnDefinitions?: { name: string }[];
    rows?: { cells: unknown[] }[];
    metadata?: { continue?: string };
}

/** Names and readiness from a Node table page; the STATUS cell is "Ready", "NotReady" or "Unknown", plus ",SchedulingDisabled". */
export function nodesFromTable(table: NodeTable): NodeInfo[] {
    const columns = (table.columnDefinitions ?? []).map((c) => c.name.toLowerCase());
    const name = columns.indexOf("name");
    const status = columns.indexOf("status");
    if (table.kind !== "Table" || name < 0 || status < 0) {
        throw new Error(`the API server answered a Node list without the table columns NAME and STATUS (kind ${table.kind})`);
    }
    return (table.rows ?? []).map((row) => ({
        name: String(row.cells[name]),
        ready: String(row.cells[status]).split(",").includes("Ready"),
    }));
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
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const https = require("https") as typeof import("https");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const http = require("http") as typeof import("http");
    /** A GET the generated client cannot make (another Accept): the status code travels as `code`, like its errors. */
    const getJson = async (path: string, accept: string): Promise<unknown> => {
        const url = new URL(path, kc.getCurrentCluster()?.server);
        const opts: import("https").RequestOptions = { method: "GET", headers: { Accept: accept } };
        await kc.applyToHTTPSOptions(opts);
        return new Promise((resolve, reject) => {
            const req = (url.protocol === "http:" ? http : https).request(url, opts, (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => chunks.push(c));
                res.on("end", () => {
                    const body = Buffer.concat(chunks).toString("utf8");
                    if ((res.statusCode ?? 0) >= 300) {
                        reject(Object.assign(new Error(`HTTP ${res.statusCode} for GET ${url.pathname}: ${body.slice(0, 300)}`), { code: res.statusCode }));
                        return;
                    }
                    try {
                        resolve(JSON.parse(body));
                    } catch (e) {
                        reject(Object.assign(new Error(`GET ${url.pathname}: not JSON: ${(e as Error).message}`), { code: res.statusCode }));
                    }
                });
                res.on("error", reject);
            });
            req.on("error", reject);
            req.end();
        });
    };
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
            const nodes: NodeInfo[] = [];
            let token = "";
            do {
                const query = new URLSearchParams({ labelSelector, limit: String(LIST_PAGE_SIZE), includeObject: "None" });
                if (token) {
                    query.set("continue", token);
                }
                const page = await call(getJson(`/api/v1/nodes?${query}`, TABLE_ACCEPT), "list Nodes") as NodeTable;
                nodes.push(...nodesFromTable(page));
                token = page.metadata?.continue ?? "";
            } while (token);
            return nodes;
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
