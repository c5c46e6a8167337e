// The few Kubernetes calls the node reaper and sync make, behind an interface tests can fake.
import type * as k8sClient from "@kubernetes/client-node";
import { connect, jsonOf, withTimeout } from "./http";
import { isCancelled, isTimedOut, unreachableError } from "./errors";
import { INSTANCE_LABEL_KEY, podNodesOf, POOL_LABEL_KEY } from "../hollow/names";
import { Rollout, rolloutOf, WorkloadObject } from "./rollout";

export interface NodeInfo {
    readonly name: string;
    readonly ready: boolean;
    /** The kubelet version the Node reports (its VERSION column); undefined where the table has none. */
    readonly kubeletVersion?: string;
}
/** A Node's pod address ranges (`spec.podCIDRs`, or the older `spec.podCIDR`); empty when it has none. */
export interface NodeCidr { readonly name: string; readonly podCIDRs: readonly string[] }
/** A Node as listed for deletion: the delete applies only if it is still this very object, unchanged. */
export interface NodeRef { readonly name: string; readonly uid: string; readonly resourceVersion: string }
/** A precondition failed (409): the Node was changed or replaced since it was listed. */
export type DeleteOutcome = "deleted" | "gone" | "changed";
/**
 * A hollow pod: its name, whether it is going, and how many indexed hollow Nodes it runs (undefined: one, its own
 * name).
 */
export interface PodInfo {
    readonly name: string;
    readonly terminating: boolean;
    readonly nodes?: number;
    /** Its pool (template label), absent on pods from before pools. */
    readonly pool?: string;
    /** The workload that runs it (`app.kubernetes.io/instance`). */
    readonly workload?: string;
}
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
    /** Names, UIDs and resource versions of the Nodes with the selector, for deletes with preconditions. */
    listNodeRefs(labelSelector: string): Promise<NodeRef[]>;
    /**
     * Deletes the Node only if its UID and resourceVersion are still those listed, so a Node relabelled
     * (to another owner) or replaced since the list is never removed.
     */
    deleteNode(ref: NodeRef): Promise<DeleteOutcome>;
    /** Deletes the node's heartbeat Lease in kube-node-lease. */
    deleteNodeLease(name: string): Promise<boolean>;
    /** Nodes of the selector ("" for all) with their podCIDRs. */
    listNodeCidrs(labelSelector: string): Promise<NodeCidr[]>;
    /**
     * Sets the podCIDR of a Node that has none: "taken" when it got one meanwhile (the field is immutable once set),
     * "gone" when the Node is.
     */
    setNodePodCidr(name: string, cidr: string): Promise<"set" | "taken" | "gone">;
    /** Adds (or changes) labels of a Node, leaving its others; false when the Node is gone. */
    labelNode(name: string, labels: Readonly<Record<string, string>>): Promise<boolean>;
    /** Pods of the workload; an absent namespace has none. */
    listPods(namespace: string, labelSelector: string): Promise<PodInfo[]>;
    /** The selector's StatefulSets and Deployments and how far each has rolled out; an absent namespace has none. */
    listRollouts(namespace: string, labelSelector: string): Promise<Rollout[]>;
    /** The object's labels and managers; undefined when it does not exist. */
    readObject(ref: ObjectRef): Promise<ObjectOwnership | undefined>;
}

/** A ClusterApi whose calls end at `requestTimeoutMs`, and at once when `signal` aborts. */
export type ClusterApiFactory = (kubeconfig: string, requestTimeoutMs: number, signal?: AbortSignal) => ClusterApi;

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

/**
 * Names, readiness and kubelet versions from a Node table page; the STATUS cell is "Ready", "NotReady" or "Unknown",
 * plus ",SchedulingDisabled"; VERSION is the Node's `status.nodeInfo.kubeletVersion`.
 */
export function nodesFromTable(table: NodeTable): NodeInfo[] {
    const columns = (table.columnDefinitions ?? []).map((c) => c.name.toLowerCase());
    const name = columns.indexOf("name");
    const status = columns.indexOf("status");
    const version = columns.indexOf("version");
    if (table.kind !== "Table" || name < 0 || status < 0) {
        throw new Error(`the API server answered a Node list without the table columns NAME and STATUS (kind ${table.kind})`);
    }
    return (table.rows ?? []).map((row) => ({
        name: String(row.cells[name]),
        ready: String(row.cells[status]).split(",").includes("Ready"),
        ...(version < 0 ? {} : { kubeletVersion: String(row.cells[version]) }),
    }));
}

/**
 * Objects' metadata only (no spec or status): what a delete with preconditions needs, a fraction of a hollow Node's
 * size.
 */
export const METADATA_LIST_ACCEPT = "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io, application/json";
/** A delete answers with the deleted object: its metadata is enough, the full Node would be several KB. */
export const METADATA_ACCEPT = "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io, application/json";

interface MetadataList {
    kind?: string;
    items?: {
        metadata?: {
            name?: string; uid?: string; resourceVersion?: string; deletionTimestamp?: string; annotations?: Record<string, string>;
            labels?: Record<string, string>;
        };
    }[];
    metadata?: { continue?: string };
}

/** Hollow pods from a metadata page: a pod's name, whether it is going, and the layout its annotation announces. */
export function podsOf(list: MetadataList): PodInfo[] {
    return (list.items ?? []).map((item) => ({
        name: item.metadata?.name ?? "", terminating: !!item.metadata?.deletionTimestamp, nodes: podNodesOf(item.metadata?.annotations),
        ...(item.metadata?.labels?.[POOL_LABEL_KEY] === undefined ? {} : { pool: item.metadata.labels[POOL_LABEL_KEY] }),
        ...(item.metadata?.labels?.[INSTANCE_LABEL_KEY] === undefined ? {} : { workload: item.metadata.labels[INSTANCE_LABEL_KEY] }),
    }));
}

export function nodeRefsOf(list: MetadataList): NodeRef[] {
    return (list.items ?? []).map((item) => {
        const { name, uid, resourceVersion } = item.metadata ?? {};
        if (!name || !uid || !resourceVersion) {
            throw new Error(`the API server listed a Node without name, uid or resourceVersion (kind ${list.kind})`);
        }
        return { name, uid, resourceVersion };
    });
}

/** The real ClusterApi: raw requests, the library only for reads of any kind. Built inside provider methods. */
export function kubernetesClusterApi(kubeconfig: string, requestTimeoutMs: number, signal?: AbortSignal): ClusterApi {
    const { server, send, kubeConfig } = connect(kubeconfig, requestTimeoutMs, signal);
    // Only the ownership check reads objects of any kind: the library's client is loaded for that alone.
    let objectApi: k8sClient.KubernetesObjectApi | undefined;
    const objects = () => {
        const k8s = require("@kubernetes/client-node") as typeof k8sClient;
        objectApi ??= k8s.KubernetesObjectApi.makeApiClient(kubeConfig());
        return objectApi;
    };
    const getJson = async (path: string, accept: string) => jsonOf(await send("GET", path, accept), `GET ${path.split("?")[0]}`);
    /** For the generated client's calls: an error without an HTTP status means no answer at all. */
    const call = async <T>(p: Promise<T>, what: string): Promise<T> => {
        try {
            return await withTimeout(p, requestTimeoutMs, what, signal);
        } catch (e) {
            if (statusCode(e) === undefined && !isCancelled(e)) {
                throw unreachableError(server, (e as Error).message, isTimedOut(e));
            }
            throw e;
        }
    };
    /** Reads a list in pages of LIST_PAGE_SIZE, handing each page on as it arrives. */
    const eachPage = async (path: string, params: Record<string, string>, accept: string,
        onPage: (page: { metadata?: { continue?: string } }) => void) => {
        let token = "";
        do {
            const query = new URLSearchParams({ ...params, limit: String(LIST_PAGE_SIZE) });
            if (token) {
                query.set("continue", token);
            }
            const page = await getJson(`${path}?${query}`, accept) as { metadata?: { continue?: string } };
            onPage(page);
            token = page.metadata?.continue ?? "";
        } while (token);
    };
    return {
        server,
        async listNodes(labelSelector) {
            const nodes: NodeInfo[] = [];
            await eachPage("/api/v1/nodes", { labelSelector, includeObject: "None" }, TABLE_ACCEPT,
                (page) => nodes.push(...nodesFromTable(page as NodeTable)));
            return nodes;
        },
        async listNodeRefs(labelSelector) {
            const refs: NodeRef[] = [];
            await eachPage("/api/v1/nodes", { labelSelector }, METADATA_LIST_ACCEPT,
                (page) => refs.push(...nodeRefsOf(page as MetadataList)));
            return refs;
        },
        async deleteNode(ref) {
            const path = `/api/v1/nodes/${encodeURIComponent(ref.name)}`;
            const reply = await send("DELETE", path, METADATA_ACCEPT, {
                apiVersion: "v1", kind: "DeleteOptions", preconditions: { uid: ref.uid, resourceVersion: ref.resourceVersion },
            });
            if (reply.status === 404) {
                return "gone";
            }
            if (reply.status === 409) {
                return "changed";
            }
            jsonOf(reply, `DELETE ${path}`);
            return "deleted";
        },
        async deleteNodeLease(name) {
            const path = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${encodeURIComponent(name)}`;
            const reply = await send("DELETE", path, METADATA_ACCEPT);
            if (reply.status === 404) {
                return false;
            }
            jsonOf(reply, `DELETE ${path}`);
            return true;
        },
        async listNodeCidrs(labelSelector) {
            const nodes: NodeCidr[] = [];
            await eachPage("/api/v1/nodes", labelSelector ? { labelSelector } : {}, "application/json", (page) => {
                for (const n of (page as { items?: { metadata?: { name?: string }; spec?: { podCIDR?: string; podCIDRs?: string[] } }[] }).items ?? []) {
                    const cidrs = n.spec?.podCIDRs ?? (n.spec?.podCIDR ? [n.spec.podCIDR] : []);
                    nodes.push({ name: n.metadata?.name ?? "", podCIDRs: cidrs });
                }
            });
            return nodes;
        },
        async setNodePodCidr(name, cidr) {
            const path = `/api/v1/nodes/${encodeURIComponent(name)}`;
            const reply = await send("PATCH", path, METADATA_ACCEPT, { spec: { podCIDR: cidr, podCIDRs: [cidr] } });
            if (reply.status === 404) {
                return "gone";
            }
            // 422: "may not be changed once set": the controller manager (or a second sync) was first.
            if (reply.status === 422) {
                return "taken";
            }
            jsonOf(reply, `PATCH ${path}`);
            return "set";
        },
        async labelNode(name, labels) {
            const path = `/api/v1/nodes/${encodeURIComponent(name)}`;
            const reply = await send("PATCH", path, METADATA_ACCEPT, { metadata: { labels } });
            if (reply.status === 404) {
                return false;
            }
            jsonOf(reply, `PATCH ${path}`);
            return true;
        },
        async listPods(namespace, labelSelector) {
            const pods: PodInfo[] = [];
            try {
                await eachPage(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`, { labelSelector }, METADATA_LIST_ACCEPT,
                    (page) => pods.push(...podsOf(page as MetadataList)));
            } catch (e) {
                if (statusCode(e) === 404) {
                    return [];
                }
                throw e;
            }
            return pods;
        },
        async listRollouts(namespace, labelSelector) {
            const rollouts: Rollout[] = [];
            for (const [kind, resource] of [["StatefulSet", "statefulsets"], ["Deployment", "deployments"]] as const) {
                try {
                    await eachPage(`/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/${resource}`, { labelSelector }, "application/json",
                        (page) => rollouts.push(...((page as { items?: WorkloadObject[] }).items ?? []).map((w) => rolloutOf(kind, w))));
                } catch (e) {
                    if (statusCode(e) !== 404) {
                        throw e;
                    }
                }
            }
            return rollouts;
        },
        async readObject(ref) {
            const what = `read ${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ""}${ref.name}`;
            try {
                const found = await call(objects().read({
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
