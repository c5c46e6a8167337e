// TargetCredentials: what the hollow nodes may do in the target, and nothing more; the operator's kubeconfig stays here.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { DEFAULT_CREDENTIAL_LIFETIME_HOURS, DEFAULT_HOLLOW_PROXY, STACK_LABEL_KEY } from "../config/read";
import {
    certificateShards, HOLLOW_KUBELET_LEASE_RULES, HOLLOW_KUBELET_RULES, KUBELET_SERVICE_ACCOUNT, kubeletConfinement, kubeletKubeconfig,
    MIN_LIFETIME_SECONDS, NODE_LEASE_NAMESPACE, NodeCertificate, PROXY_CLUSTER_ROLE, PROXY_SERVICE_ACCOUNT, tokenKubeconfig,
} from "./kubeconfigs";
import {
    CREDENTIALS_PROVIDER_VERSION, HollowCredentialsInputs, HollowCredentialsProvider, ServiceAccountToken,
} from "./provider";
import { ObjectRef } from "../kube/clusterApi";
import { APPLY_ANNOTATIONS } from "../ownership/rules";

/** How long `up` waits for the target's signer to issue the certificates. */
export const DEFAULT_ISSUE_TIMEOUT_SECONDS = 300;

type Args<T> = { [K in keyof Omit<T, "providerVersion">]: pulumi.Input<T[K]> };

/** Issues and renews the per-node certificates and the tokens; destroy deletes the stack's CSRs. */
export class HollowCredentials extends pulumi.dynamic.Resource {
    declare readonly certificates: pulumi.Output<Record<string, NodeCertificate>>;
    declare readonly tokens: pulumi.Output<Record<string, ServiceAccountToken>>;

    constructor(name: string, args: Args<HollowCredentialsInputs>, opts?: pulumi.CustomResourceOptions) {
        super(new HollowCredentialsProvider(), name,
            { ...args, providerVersion: CREDENTIALS_PROVIDER_VERSION, certificates: undefined, tokens: undefined },
            pulumi.mergeOptions(opts, { additionalSecretOutputs: ["targetKubeconfig", "certificates", "tokens"] }),
            "kubemark", "HollowCredentials");
    }
}

/** Cluster-wide names carry the stack's label value, so stacks side by side never share one. */
export const clusterScopedName = (stackLabelValue: string, role: string) => `kubemark-pulumi:${stackLabelValue}:${role}`;

/** Admission policy names must be DNS subdomains: lowercased, with a hash of the label value when that changed it. */
export function policyName(stackLabelValue: string, role: string): string {
    const safe = stackLabelValue.toLowerCase().replace(/[^a-z0-9.-]+/g, "-");
    const suffix = safe === stackLabelValue ? "" : `-${createHash("sha256").update(stackLabelValue).digest("hex").slice(0, 6)}`;
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

export interface TargetCredentialsArgs {
    /** Provider of the target cluster, with the operator's kubeconfig (exec plugins and auth providers work). Required. */
    targetProvider: k8s.Provider;
    /** The operator's single-context target kubeconfig: used by Pulumi and the credential issuer only. Required; a secret. */
    targetKubeconfig: pulumi.Input<string>;
    /** Stack-owned namespace in the target for the ServiceAccounts. Required. */
    namespace: string;
    /** Value of the `kubemark-pulumi/stack` label. Required. */
    stackLabelValue: string;
    /**
     * Hollow Nodes that get their own client certificate (`system:node:<name>`); when undefined (pod names not
     * known in advance), the kubelets share a ServiceAccount instead. Required.
     */
    nodeNames: readonly string[] | undefined;
    /** Prefix of the hollow Nodes' names (the workload's name and a dash), for the shared identity's confinement. Required. */
    nodeNamePrefix: string;
    /** Issue the hollow proxy's ServiceAccount token. Defaults to true. */
    hollowProxy?: boolean;
    /** Certificate and token lifetime; any `up` in the second half renews. Defaults to 168 hours. */
    lifetimeHours?: number;
    /** Bound on waiting for the signer, per certificate from its approval. Defaults to 300 seconds. */
    issueTimeoutSeconds?: number;
    /** What every child waits for (the ownership guard), so a refusal creates nothing. Defaults to none. */
    after?: pulumi.Resource[];
}

export class TargetCredentials extends pulumi.ComponentResource {
    /** The hollow kubelet's kubeconfig: the pod's own certificate files, or the shared ServiceAccount token. A secret. */
    public readonly kubeletKubeconfig: pulumi.Output<string>;
    /** The hollow proxy's kubeconfig with its ServiceAccount token; empty without the proxy. A secret. */
    public readonly proxyKubeconfig: pulumi.Output<string>;
    /** `<node>.crt`/`<node>.key` maps, one per node-cluster Secret. Secrets. */
    public readonly certificateShards: pulumi.Output<Record<string, string>[]>;
    /** Changes when credentials were renewed (not when nodes were added): a rollout picks them up. */
    public readonly generation: pulumi.Output<string>;

    constructor(name: string, args: TargetCredentialsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kubemark:index:TargetCredentials", name, {}, opts);
        const provider = args.targetProvider;
        const hollowProxy = args.hollowProxy ?? DEFAULT_HOLLOW_PROXY;
        const perNode = args.nodeNames !== undefined;
        const lifetimeSeconds = Math.max(MIN_LIFETIME_SECONDS, (args.lifetimeHours ?? DEFAULT_CREDENTIAL_LIFETIME_HOURS) * 3600);
        const labels = { [STACK_LABEL_KEY]: args.stackLabelValue };
        const metadata = <T extends object>(extra: T) => ({ labels, annotations: { ...APPLY_ANNOTATIONS }, ...extra });
        const after = args.after ?? [];
        const opt = { parent: this, provider, dependsOn: after };
        const deps: pulumi.Resource[] = [...after];
        const accounts: string[] = [];
        const ns = hollowProxy || !perNode
            ? new k8s.core.v1.Namespace(`${name}-namespace`, { metadata: metadata({ name: args.namespace }) }, opt).metadata.name
            : pulumi.output(args.namespace);
        const subject = (account: string) => [{ kind: "ServiceAccount", name: account, namespace: args.namespace }];
        const account = (role: string, account: string) => {
            accounts.push(account);
            // Tokens are requested for the hollow pods alone; nothing in the target mounts them.
            deps.push(new k8s.core.v1.ServiceAccount(`${name}-${role}-account`, {
                metadata: metadata({ name: account, namespace: ns }), automountServiceAccountToken: false,
            }, opt));
        };
        const bind = (role: string, clusterRole: pulumi.Input<string>, account: string, bindingName: string) => deps.push(
            new k8s.rbac.v1.ClusterRoleBinding(`${name}-${role}-binding`, {
                metadata: metadata({ name: bindingName }),
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole },
                subjects: subject(account),
            }, opt));
        if (hollowProxy) {
            account("proxy", PROXY_SERVICE_ACCOUNT);
            bind("proxy", PROXY_CLUSTER_ROLE, PROXY_SERVICE_ACCOUNT, clusterScopedName(args.stackLabelValue, PROXY_SERVICE_ACCOUNT));
        }
        if (!perNode) {
            const roleName = clusterScopedName(args.stackLabelValue, KUBELET_SERVICE_ACCOUNT);
            account("kubelet", KUBELET_SERVICE_ACCOUNT);
            const role = new k8s.rbac.v1.ClusterRole(`${name}-kubelet-role`, { metadata: metadata({ name: roleName }), rules: HOLLOW_KUBELET_RULES }, opt);
            bind("kubelet", role.metadata.name, KUBELET_SERVICE_ACCOUNT, roleName);
            const leases = new k8s.rbac.v1.ClusterRole(`${name}-kubelet-lease-role`, {
                metadata: metadata({ name: `${roleName}:leases` }), rules: HOLLOW_KUBELET_LEASE_RULES,
            }, opt);
            deps.push(new k8s.rbac.v1.RoleBinding(`${name}-kubelet-lease-binding`, {
                metadata: metadata({ name: roleName, namespace: NODE_LEASE_NAMESPACE }),
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: leases.metadata.name },
                subjects: subject(KUBELET_SERVICE_ACCOUNT),
            }, opt));
            // RBAC cannot tell one Node from another: this policy confines the shared identity to the stack's own.
            const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(`${name}-kubelet-policy`, {
                metadata: metadata({ name: policyName(args.stackLabelValue, KUBELET_SERVICE_ACCOUNT) }),
                spec: kubeletConfinement({
                    stackLabelKey: STACK_LABEL_KEY, stackLabelValue: args.stackLabelValue, nodeNamePrefix: args.nodeNamePrefix,
                    user: `system:serviceaccount:${args.namespace}:${KUBELET_SERVICE_ACCOUNT}`,
                }),
            }, opt);
            deps.push(new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(`${name}-kubelet-policy-binding`, {
                metadata: metadata({ name: policyName(args.stackLabelValue, KUBELET_SERVICE_ACCOUNT) }),
                spec: { policyName: policy.metadata.name, validationActions: ["Deny"] },
            }, opt));
        }
        const targetKubeconfig: pulumi.Output<string> = pulumi.secret(args.targetKubeconfig);
        const issued = new HollowCredentials(`${name}-issuer`, {
            targetKubeconfig, stackLabelKey: STACK_LABEL_KEY, stackLabelValue: args.stackLabelValue,
            nodeNames: [...(args.nodeNames ?? [])], lifetimeSeconds,
            identityNamespace: args.namespace, serviceAccounts: accounts,
            timeoutSeconds: args.issueTimeoutSeconds ?? DEFAULT_ISSUE_TIMEOUT_SECONDS,
        }, { parent: this, dependsOn: deps });

        const both = pulumi.all([targetKubeconfig, issued.tokens]);
        this.kubeletKubeconfig = pulumi.secret(both.apply(([kc, tokens]) => (perNode ? kubeletKubeconfig(kc)
            : tokenKubeconfig(kc, KUBELET_SERVICE_ACCOUNT, tokens[KUBELET_SERVICE_ACCOUNT].token))));
        this.proxyKubeconfig = pulumi.secret(both.apply(([kc, tokens]) => (hollowProxy ? tokenKubeconfig(kc, PROXY_SERVICE_ACCOUNT, tokens[PROXY_SERVICE_ACCOUNT].token) : "")));
        this.certificateShards = pulumi.secret(issued.certificates.apply((c) => certificateShards(c ?? {})));
        this.generation = pulumi.unsecret(pulumi.all([issued.certificates, issued.tokens]).apply(([certs, tokens]) => {
            // The earliest expiry moves only when certificates are renewed; tokens are new only when renewed.
            const ends = Object.values(certs ?? {}).map((c) => c.notAfter).sort();
            const tokenText = Object.entries(tokens ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([, t]) => t.token).join("/");
            return `${ends[0] ?? "none"}/${createHash("sha256").update(tokenText).digest("hex").slice(0, 12)}`;
        }));
        this.registerOutputs({
            kubeletKubeconfig: this.kubeletKubeconfig, proxyKubeconfig: this.proxyKubeconfig,
            certificateShards: this.certificateShards, generation: this.generation,
        });
    }
}
