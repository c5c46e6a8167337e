// Pure layout of the hollow nodes' least-privilege credentials: in-pod kubeconfigs, Secret shards, renewal.
import * as yaml from "js-yaml";

/** Where the pod sees its credentials; each container mounts only its own files there. */
export const CREDENTIALS_MOUNT = "/kubeconfig";
export const KUBELET_KUBECONFIG_KEY = "kubelet.kubeconfig";
export const PROXY_KUBECONFIG_KEY = "kubeproxy.kubeconfig";
export const KUBELET_CERT_FILE = "tls.crt";
export const KUBELET_KEY_FILE = "tls.key";
/** The client certificate signer whose certificates the Node authorizer and NodeRestriction confine to one Node. */
export const KUBELET_SIGNER = "kubernetes.io/kube-apiserver-client-kubelet";
/** The API server's minimum for CertificateSigningRequest expirationSeconds. */
export const MIN_LIFETIME_SECONDS = 600;
/**
 * Nodes per certificate Secret. A Secret holds at most 1 MiB; a P-256 certificate and key take about
 * 0.9 KB, so 500 leave room, and a 5,000-node stack needs ten Secrets.
 */
export const NODES_PER_SECRET = 500;
/** The ClusterRole hollow kube-proxy is bound to: read Services, Endpoints(Slices) and Nodes, write Events. */
export const PROXY_CLUSTER_ROLE = "system:node-proxier";
export const PROXY_SERVICE_ACCOUNT = "hollow-proxy";
/** The kubelets' shared identity where pod names, and so Node names, are not known in advance. */
export const KUBELET_SERVICE_ACCOUNT = "hollow-kubelet";
export const NODE_LEASE_NAMESPACE = "kube-node-lease";

/**
 * What a hollow kubelet without a per-node certificate is allowed, cluster-wide: the Node authorizer's node
 * rules less secrets, configmaps, volumes and CSRs. RBAC cannot tell one Node from another, so such a kubelet
 * could write any Node's status: the README says so. Leases are granted only in kube-node-lease (a RoleBinding).
 */
export const HOLLOW_KUBELET_RULES = [
    { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch", "create", "update", "patch"] },
    { apiGroups: [""], resources: ["nodes/status"], verbs: ["patch", "update"] },
    { apiGroups: [""], resources: ["pods", "services", "endpoints"], verbs: ["get", "list", "watch"] },
    { apiGroups: [""], resources: ["pods/status"], verbs: ["patch", "update"] },
    { apiGroups: ["", "events.k8s.io"], resources: ["events"], verbs: ["create", "patch", "update"] },
    { apiGroups: ["storage.k8s.io"], resources: ["csinodes"], verbs: ["get", "create", "update", "patch"] },
    { apiGroups: ["node.k8s.io"], resources: ["runtimeclasses"], verbs: ["get", "list", "watch"] },
];
export const HOLLOW_KUBELET_LEASE_RULES = [
    { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update", "patch"] },
];

/** A node's issued client certificate and its key. */
export interface NodeCertificate {
    readonly certPem: string;
    readonly keyPem: string;
    /** ISO times the certificate starts and stops working (the signer may cap what was asked for). */
    readonly notBefore: string;
    readonly notAfter: string;
    /** The CertificateSigningRequest it came from, deleted on renewal and destroy. */
    readonly csrName: string;
}

/** Secret keys of a node's certificate and key: the pod picks its own by name with subPathExpr. */
export const certKey = (nodeName: string) => `${nodeName}.crt`;
export const keyKey = (nodeName: string) => `${nodeName}.key`;

/** Splits the certificates into Secret-sized shards, in node-name order so shard contents are stable. */
export function certificateShards(certs: Readonly<Record<string, NodeCertificate>>, perSecret = NODES_PER_SECRET): Record<string, string>[] {
    const names = Object.keys(certs).sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
    const shards: Record<string, string>[] = [];
    for (let i = 0; i < names.length; i += perSecret) {
        shards.push(Object.fromEntries(names.slice(i, i + perSecret).flatMap((n) => [[certKey(n), certs[n].certPem], [keyKey(n), certs[n].keyPem]])));
    }
    return shards;
}

/** How many certificate Secrets `nodeCount` nodes need. */
export const shardCount = (nodeCount: number, perSecret = NODES_PER_SECRET) => Math.ceil(nodeCount / perSecret);

interface Doc {
    "current-context"?: string;
    contexts?: { name: string; context?: { cluster?: string } }[];
    clusters?: { name: string; cluster?: Record<string, unknown> }[];
}

/** The operator's cluster entry (server, CA, TLS name, proxy): what the pods need to reach and trust the target. */
export function clusterEntry(operatorKubeconfig: string): Record<string, unknown> {
    const doc = (yaml.load(operatorKubeconfig) ?? {}) as Doc;
    const ctx = (doc.contexts ?? []).find((c) => c.name === doc["current-context"]);
    const cluster = (doc.clusters ?? []).find((c) => c.name === ctx?.context?.cluster)?.cluster;
    if (!cluster || !cluster.server) {
        throw new Error("the target kubeconfig's current context has no cluster with a server");
    }
    return { ...cluster };
}

function kubeconfig(cluster: Record<string, unknown>, user: string, userEntry: Record<string, unknown>): string {
    return yaml.dump({
        apiVersion: "v1", kind: "Config", "current-context": "target",
        clusters: [{ name: "target", cluster }],
        users: [{ name: user, user: userEntry }],
        contexts: [{ name: "target", context: { cluster: "target", user } }],
    }, { lineWidth: -1, sortKeys: true });
}

/** The hollow kubelet's kubeconfig: the operator's cluster entry, and the pod's own certificate files. */
export function kubeletKubeconfig(operatorKubeconfig: string): string {
    return kubeconfig(clusterEntry(operatorKubeconfig), "hollow-kubelet", {
        "client-certificate": `${CREDENTIALS_MOUNT}/${KUBELET_CERT_FILE}`,
        "client-key": `${CREDENTIALS_MOUNT}/${KUBELET_KEY_FILE}`,
    });
}

/**
 * The admission policy that confines a shared kubelet identity to this stack, where RBAC cannot: it may write
 * only Nodes carrying the stack's label (before and after the write), and Leases, CSINodes and pod statuses of
 * Nodes named with the workload's prefix. CEL over the request; needs admissionregistration.k8s.io/v1 (v1.30+).
 */
export function kubeletConfinement(o: { stackLabelKey: string; stackLabelValue: string; user: string; nodeNamePrefix: string }): Record<string, unknown> {
    const q = (text: string) => `'${text.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
    const ours = (v: string) => `(has(${v}.metadata.labels) && ${q(o.stackLabelKey)} in ${v}.metadata.labels && ${v}.metadata.labels[${q(o.stackLabelKey)}] == ${q(o.stackLabelValue)})`;
    const named = (v: string) => `${v}.metadata.name.startsWith(${q(o.nodeNamePrefix)})`;
    const subject = `(object != null ? object : oldObject)`;
    return {
        failurePolicy: "Fail",
        matchConstraints: {
            resourceRules: [
                { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE", "DELETE"], resources: ["nodes", "nodes/status", "pods/status"] },
                { apiGroups: ["coordination.k8s.io"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE", "DELETE"], resources: ["leases"] },
                { apiGroups: ["storage.k8s.io"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE", "DELETE"], resources: ["csinodes"] },
            ],
        },
        matchConditions: [{ name: "this-stacks-kubelets", expression: `request.userInfo.username == ${q(o.user)}` }],
        validations: [
            {
                expression: `request.resource.resource != 'nodes' || ((oldObject == null || ${ours("oldObject")}) && (object == null || ${ours("object")}))`,
                message: `hollow kubelets of ${o.stackLabelValue} may write only Nodes labelled ${o.stackLabelKey}=${o.stackLabelValue}`,
                // 403, like the Node authorizer's refusals, rather than the default 422 Invalid.
                reason: "Forbidden",
            },
            {
                expression: `!(request.resource.resource in ['leases', 'csinodes']) || ${named(subject)}`,
                message: `hollow kubelets of ${o.stackLabelValue} may write only Leases and CSINodes of Nodes named ${o.nodeNamePrefix}*`,
                reason: "Forbidden",
            },
            {
                expression: `request.resource.resource != 'pods' || (has(oldObject.spec.nodeName) && oldObject.spec.nodeName.startsWith(${q(o.nodeNamePrefix)}))`,
                message: `hollow kubelets of ${o.stackLabelValue} may write only the status of pods on Nodes named ${o.nodeNamePrefix}*`,
                reason: "Forbidden",
            },
        ],
    };
}

/** A kubeconfig with a ServiceAccount's bound token: the proxy's, or the kubelets' shared one. */
export function tokenKubeconfig(operatorKubeconfig: string, account: string, token: string): string {
    return kubeconfig(clusterEntry(operatorKubeconfig), account, { token });
}

/**
 * True once a credential is in the second half of the lifetime it was actually given: signers may cap the
 * requested lifetime (--cluster-signing-duration, the CA's own expiry), so the request alone cannot tell.
 */
export function needsRenewal(notBefore: string, notAfter: string, nowMs: number): boolean {
    const start = Date.parse(notBefore);
    const end = Date.parse(notAfter);
    return !Number.isFinite(start) || !Number.isFinite(end) || nowMs >= start + (end - start) / 2;
}

/** CSR names are cluster-wide: the node's name (already the stack's) and when it was asked for. */
export function csrName(nodeName: string, issuedAtMs: number): string {
    return `${nodeName}-${Math.floor(issuedAtMs / 1000).toString(36)}`;
}
