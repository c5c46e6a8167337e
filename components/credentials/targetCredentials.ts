// TargetCredentials: what the hollow nodes may do in the target, and no more; the operator's kubeconfig stays here.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import {
    DEFAULT_CREDENTIAL_LIFETIME_HOURS, DEFAULT_HOLLOW_PROXY, DEFAULT_ISSUE_TIMEOUT_SECONDS, withDefaults,
} from "../config/defaults";
import { STACK_LABEL_KEY } from "../config/settings";
import { APPLY_ANNOTATIONS } from "../ownership/rules";
import { MIN_LIFETIME_SECONDS, NodeCertificate } from "./csr";
import { HollowCredentials } from "./hollowCredentials";
import { certificateShards, kubeletKubeconfig, tokenKubeconfig } from "./kubeconfigs";
import {
    clusterScopedName, HOLLOW_KUBELET_LEASE_RULES, hollowKubeletRules, KUBELET_SERVICE_ACCOUNT, kubeletConfinement,
    NODE_LEASE_NAMESPACE, policyName, PROXY_CLUSTER_ROLE, PROXY_SERVICE_ACCOUNT,
} from "./policy";
import type { ServiceAccountToken } from "./provider";

export interface TargetCredentialsArgs {
    /**
     * Provider of the target cluster, with the operator's kubeconfig (exec plugins and auth providers work). Required.
     */
    targetProvider: k8s.Provider;
    /**
     * The operator's single-context target kubeconfig: used by Pulumi and the credential issuer only. Required; a
     * secret.
     */
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
    /**
     * Prefix of the hollow Nodes' names (the workload's name and a dash), for the shared identity's confinement.
     * Required.
     */
    nodeNamePrefix: string;
    /** Minor of the hollow kubelets' release: the shared identity carries what that kubelet uses. Required. */
    kubeletMinor: number;
    /** Issue the hollow proxy's ServiceAccount token. Defaults to DEFAULT_HOLLOW_PROXY. */
    hollowProxy?: boolean;
    /**
     * Certificate and token lifetime; any `up` in the second half renews. Defaults to
     * DEFAULT_CREDENTIAL_LIFETIME_HOURS.
     */
    lifetimeHours?: number;
    /**
     * Bound on waiting for the signer, per certificate from its approval. Defaults to DEFAULT_ISSUE_TIMEOUT_SECONDS.
     */
    issueTimeoutSeconds?: number;
    /** What every child waits for (the ownership guard), so a refusal creates nothing. Defaults to none. */
    after?: pulumi.Resource[];
}

const TOKEN_DEFAULTS = {
    hollowProxy: DEFAULT_HOLLOW_PROXY, lifetimeHours: DEFAULT_CREDENTIAL_LIFETIME_HOURS, issueTimeoutSeconds: DEFAULT_ISSUE_TIMEOUT_SECONDS,
};
/**
 * Hex digits of the token digest in `generation`: enough to tell renewed tokens apart, nothing to guess a token from.
 */
const TOKEN_DIGEST_CHARS = 12;

export class TargetCredentials extends pulumi.ComponentResource {
    /**
     * The hollow kubelet's kubeconfig: the pod's own certificate files, or the shared ServiceAccount token. A secret.
     */
    public readonly kubeletKubeconfig: pulumi.Output<string>;
    /** The hollow proxy's kubeconfig with its ServiceAccount token; empty without the proxy. A secret. */
    public readonly proxyKubeconfig: pulumi.Output<string>;
    /** `<node>.crt`/`<node>.key` maps, one per node-cluster Secret. Secrets. */
    public readonly certificateShards: pulumi.Output<Record<string, string>[]>;
    /** Changes when credentials were renewed (not when nodes were added): a rollout picks them up. */
    public readonly generation: pulumi.Output<string>;
    private readonly issued: pulumi.Output<[Record<string, NodeCertificate> | undefined, Record<string, ServiceAccountToken> | undefined]>;

    constructor(name: string, args: TargetCredentialsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kubemark:index:TargetCredentials", name, {}, opts);
        const o = withDefaults(TOKEN_DEFAULTS, args);
        const perNode = args.nodeNames !== undefined;
        const identities = new Identities(name, this, args);
        if (o.hollowProxy || !perNode) {
            identities.namespace();
        }
        if (o.hollowProxy) {
            identities.proxy();
        }
        if (!perNode) {
            identities.sharedKubelet();
        }
        const targetKubeconfig: pulumi.Output<string> = pulumi.secret(args.targetKubeconfig);
        const issued = new HollowCredentials(`${name}-issuer`, {
            targetKubeconfig, stackLabelKey: STACK_LABEL_KEY, stackLabelValue: args.stackLabelValue,
            nodeNames: [...(args.nodeNames ?? [])], lifetimeSeconds: Math.max(MIN_LIFETIME_SECONDS, o.lifetimeHours * 3600),
            identityNamespace: args.namespace, serviceAccounts: identities.accounts,
            timeoutSeconds: o.issueTimeoutSeconds,
        }, { parent: this, dependsOn: identities.created });

        const both = pulumi.all([targetKubeconfig, issued.tokens]);
        this.kubeletKubeconfig = pulumi.secret(both.apply(([kc, tokens]) => (perNode ? kubeletKubeconfig(kc)
            : tokenKubeconfig(kc, KUBELET_SERVICE_ACCOUNT, tokens[KUBELET_SERVICE_ACCOUNT].token))));
        this.proxyKubeconfig = pulumi.secret(both.apply(([kc, tokens]) =>
            (o.hollowProxy ? tokenKubeconfig(kc, PROXY_SERVICE_ACCOUNT, tokens[PROXY_SERVICE_ACCOUNT].token) : "")));
        this.certificateShards = pulumi.secret(issued.certificates.apply((c) => certificateShards(c ?? {})));
        this.issued = pulumi.all([issued.certificates, issued.tokens]);
        this.generation = pulumi.unsecret(this.issued.apply(([certs, tokens]) => generation(certs, tokens)));
        this.registerOutputs({
            kubeletKubeconfig: this.kubeletKubeconfig, proxyKubeconfig: this.proxyKubeconfig,
            certificateShards: this.certificateShards, generation: this.generation,
        });
    }

    /**
     * The generation of some Nodes' credentials: their certificates' and the shared tokens'. A pool's pods carry
     * their own, so adding or removing another pool (whose certificates may be the stack's earliest) rolls nothing.
     */
    generationOf(nodeNames: readonly string[]): pulumi.Output<string> {
        const wanted = new Set(nodeNames);
        return pulumi.unsecret(this.issued.apply(([certs, tokens]) =>
            generation(Object.fromEntries(Object.entries(certs ?? {}).filter(([n]) => wanted.has(n))), tokens)));
    }
}

/** The earliest certificate expiry moves only when certificates are renewed; tokens are new only when renewed. */
function generation(certs: Record<string, NodeCertificate> | undefined, tokens: Record<string, ServiceAccountToken> | undefined): string {
    const ends = Object.values(certs ?? {}).map((c) => c.notAfter).sort();
    const tokenText = Object.entries(tokens ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([, t]) => t.token).join("/");
    return `${ends[0] ?? "none"}/${createHash("sha256").update(tokenText).digest("hex").slice(0, TOKEN_DIGEST_CHARS)}`;
}

/** The target objects behind the hollow nodes' ServiceAccount identities, created as TargetCredentials' children. */
class Identities {
    /** ServiceAccounts that get a token. */
    readonly accounts: string[] = [];
    /** What the issuer waits for: the guard, then every object below. */
    readonly created: pulumi.Resource[];
    private readonly opts: pulumi.CustomResourceOptions;
    private namespaceName: pulumi.Input<string>;

    constructor(private readonly name: string, parent: pulumi.Resource, private readonly args: TargetCredentialsArgs) {
        const after = args.after ?? [];
        this.created = [...after];
        this.opts = { parent, provider: args.targetProvider, dependsOn: after };
        this.namespaceName = args.namespace;
    }

    private metadata<T extends object>(extra: T) {
        return { labels: { [STACK_LABEL_KEY]: this.args.stackLabelValue }, annotations: { ...APPLY_ANNOTATIONS }, ...extra };
    }

    private subject(account: string) {
        return [{ kind: "ServiceAccount", name: account, namespace: this.args.namespace }];
    }

    namespace(): void {
        this.namespaceName = new k8s.core.v1.Namespace(`${this.name}-namespace`, { metadata: this.metadata({ name: this.args.namespace }) }, this.opts)
            .metadata.name;
    }

    private account(role: string, account: string): void {
        this.accounts.push(account);
        // Tokens are requested for the hollow pods alone; nothing in the target mounts them.
        this.created.push(new k8s.core.v1.ServiceAccount(`${this.name}-${role}-account`, {
            metadata: this.metadata({ name: account, namespace: this.namespaceName }), automountServiceAccountToken: false,
        }, this.opts));
    }

    private bind(role: string, clusterRole: pulumi.Input<string>, account: string, bindingName: string): void {
        this.created.push(new k8s.rbac.v1.ClusterRoleBinding(`${this.name}-${role}-binding`, {
            metadata: this.metadata({ name: bindingName }),
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole },
            subjects: this.subject(account),
        }, this.opts));
    }

    /** The hollow proxy's ServiceAccount, bound to the node proxier role every kube-proxy has. */
    proxy(): void {
        this.account("proxy", PROXY_SERVICE_ACCOUNT);
        this.bind("proxy", PROXY_CLUSTER_ROLE, PROXY_SERVICE_ACCOUNT, clusterScopedName(this.args.stackLabelValue, PROXY_SERVICE_ACCOUNT));
    }

    /** One ServiceAccount for every hollow kubelet where pod names are not known in advance, confined to this stack. */
    sharedKubelet(): void {
        const { stackLabelValue, namespace, nodeNamePrefix } = this.args;
        const roleName = clusterScopedName(stackLabelValue, KUBELET_SERVICE_ACCOUNT);
        this.account("kubelet", KUBELET_SERVICE_ACCOUNT);
        const role = new k8s.rbac.v1.ClusterRole(`${this.name}-kubelet-role`, { metadata: this.metadata({ name: roleName }), rules: hollowKubeletRules(this.args.kubeletMinor) }, this.opts);
        this.bind("kubelet", role.metadata.name, KUBELET_SERVICE_ACCOUNT, roleName);
        const leases = new k8s.rbac.v1.ClusterRole(`${this.name}-kubelet-lease-role`, {
            metadata: this.metadata({ name: `${roleName}:leases` }), rules: HOLLOW_KUBELET_LEASE_RULES,
        }, this.opts);
        this.created.push(new k8s.rbac.v1.RoleBinding(`${this.name}-kubelet-lease-binding`, {
            metadata: this.metadata({ name: roleName, namespace: NODE_LEASE_NAMESPACE }),
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: leases.metadata.name },
            subjects: this.subject(KUBELET_SERVICE_ACCOUNT),
        }, this.opts));
        // RBAC cannot tell one Node from another: this policy confines the shared identity to the stack's own.
        const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(`${this.name}-kubelet-policy`, {
            metadata: this.metadata({ name: policyName(stackLabelValue, KUBELET_SERVICE_ACCOUNT) }),
            spec: kubeletConfinement({
                stackLabelKey: STACK_LABEL_KEY, stackLabelValue, nodeNamePrefix,
                user: `system:serviceaccount:${namespace}:${KUBELET_SERVICE_ACCOUNT}`,
            }),
        }, this.opts);
        this.created.push(new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(`${this.name}-kubelet-policy-binding`, {
            metadata: this.metadata({ name: policyName(stackLabelValue, KUBELET_SERVICE_ACCOUNT) }),
            spec: { policyName: policy.metadata.name, validationActions: ["Deny"] },
        }, this.opts));
    }
}
