// What the hollow nodes may do in the target and under which names: RBAC, the shared identity's confinement.
import { createHash } from "crypto";
import { NAME_HASH_CHARS } from "../config/settings";
import type { ObjectRef } from "../kube/clusterApi";

/** The ClusterRole hollow kube-proxy is bound to: read Services, Endpoints(Slices) and Nodes, write Events. */
export const PROXY_CLUSTER_ROLE = "system:node-proxier";
export const PROXY_SERVICE_ACCOUNT = "hollow-proxy";
/** The kubelets' shared identity where pod names, and so Node names, are not known in advance. */
export const KUBELET_SERVICE_ACCOUNT = "hollow-kubelet";
export const NODE_LEASE_NAMESPACE = "kube-node-lease";

export interface PolicyRule { readonly apiGroups: string[]; readonly resources: string[]; readonly verbs: string[] }

/** First minor whose kubelet deletes a CSINode left by an earlier Node object of its name (ensureNodeOwnsCSINode). */
export const CSINODE_DELETE_FROM_MINOR = 35;
/** First minor whose kubelet watches PodCertificateRequests at start (the gate GA and on; beta and off before). */
export const POD_CERTIFICATES_FROM_MINOR = 37;

/**
 * What a hollow kubelet of a minor does in the target without a per-node certificate, granted cluster-wide, as read
 * on each release's source (pkg/kubemark builds it with a fake event recorder, no auth, a stub container manager):
 * register and watch its Node and patch its status; watch its pods, patch their status and delete them once they
 * have terminated; list Services (pod env); set up its CSINode and watch CSIDrivers; list RuntimeClasses; from
 * v1.35 replace a CSINode of an earlier Node object; from v1.37 watch its PodCertificateRequests. Nothing else: no
 * events (never sent), no Secrets, ConfigMaps or ServiceAccount tokens (pods that mount them need a per-node
 * certificate: RBAC could grant them only for every pod of the cluster). RBAC cannot tell one Node from another:
 * kubeletConfinement confines the writes to this stack's own. Leases are granted only in kube-node-lease.
 */
export function hollowKubeletRules(minor: number): PolicyRule[] {
    return [
        { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch", "create"] },
        { apiGroups: [""], resources: ["nodes/status"], verbs: ["patch"] },
        { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch", "delete"] },
        { apiGroups: [""], resources: ["pods/status"], verbs: ["patch"] },
        { apiGroups: [""], resources: ["services"], verbs: ["list", "watch"] },
        { apiGroups: ["storage.k8s.io"], resources: ["csinodes"], verbs: ["get", "create", "update", ...(minor >= CSINODE_DELETE_FROM_MINOR ? ["delete"] : [])] },
        { apiGroups: ["storage.k8s.io"], resources: ["csidrivers"], verbs: ["list", "watch"] },
        { apiGroups: ["node.k8s.io"], resources: ["runtimeclasses"], verbs: ["list", "watch"] },
        ...(minor >= POD_CERTIFICATES_FROM_MINOR ? [{ apiGroups: ["certificates.k8s.io"], resources: ["podcertificaterequests"], verbs: ["list", "watch"] }] : []),
    ];
}
export const HOLLOW_KUBELET_LEASE_RULES: PolicyRule[] = [
    { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update"] },
];

/** Cluster-wide names carry the stack's label value, so stacks side by side never share one. */
export const clusterScopedName = (stackLabelValue: string, role: string) => `kubemark-pulumi:${stackLabelValue}:${role}`;

/** Admission policy names must be DNS subdomains: lowercased, with a hash of the label value when that changed it. */
export function policyName(stackLabelValue: string, role: string): string {
    const safe = stackLabelValue.toLowerCase().replace(/[^a-z0-9.-]+/g, "-");
    const suffix = safe === stackLabelValue ? "" : `-${createHash("sha256").update(stackLabelValue).digest("hex").slice(0, NAME_HASH_CHARS)}`;
    return `kubemark-pulumi.${safe}${suffix}.${role}`;
}

interface IdentityOptions { namespace: string; stackLabelValue: string; hollowProxy: boolean; perNodeCertificates: boolean }
const ADMISSION = "admissionregistration.k8s.io/v1";

/** The target objects this stack creates under fixed names, for the ownership guard. */
export function targetCredentialObjects(o: IdentityOptions): ObjectRef[] {
    const rbac = "rbac.authorization.k8s.io/v1";
    const objects: ObjectRef[] = [];
    if (o.hollowProxy || !o.perNodeCertificates) {
        objects.push({ apiVersion: "v1", kind: "Namespace", name: o.namespace });
    }
    if (o.hollowProxy) {
        objects.push({ apiVersion: "v1", kind: "ServiceAccount", namespace: o.namespace, name: PROXY_SERVICE_ACCOUNT },
            { apiVersion: rbac, kind: "ClusterRoleBinding", name: clusterScopedName(o.stackLabelValue, PROXY_SERVICE_ACCOUNT) });
    }
    if (!o.perNodeCertificates) {
        const name = clusterScopedName(o.stackLabelValue, KUBELET_SERVICE_ACCOUNT);
        objects.push({ apiVersion: "v1", kind: "ServiceAccount", namespace: o.namespace, name: KUBELET_SERVICE_ACCOUNT },
            { apiVersion: rbac, kind: "ClusterRole", name }, { apiVersion: rbac, kind: "ClusterRoleBinding", name },
            { apiVersion: rbac, kind: "ClusterRole", name: `${name}:leases` },
            { apiVersion: rbac, kind: "RoleBinding", namespace: NODE_LEASE_NAMESPACE, name },
            { apiVersion: ADMISSION, kind: "ValidatingAdmissionPolicy", name: policyName(o.stackLabelValue, KUBELET_SERVICE_ACCOUNT) },
            { apiVersion: ADMISSION, kind: "ValidatingAdmissionPolicyBinding", name: policyName(o.stackLabelValue, KUBELET_SERVICE_ACCOUNT) });
    }
    return objects;
}

/**
 * The admission policy that confines a shared kubelet identity to this stack, where RBAC cannot: it may write
 * only Nodes carrying the stack's label (before and after the write), and Leases, CSINodes, pod statuses and pod
 * deletions of Nodes named with the workload's prefix. CEL over the request; needs admissionregistration.k8s.io/v1
 * (v1.30+).
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
                { apiGroups: [""], apiVersions: ["v1"], operations: ["DELETE"], resources: ["pods"] },
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
                message: `hollow kubelets of ${o.stackLabelValue} may write the status of, or delete, only pods on Nodes named ${o.nodeNamePrefix}*`,
                reason: "Forbidden",
            },
        ],
    };
}
