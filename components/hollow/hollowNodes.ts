// HollowNodes: namespace, credential Secrets and hollow-node workload in the node cluster, guarded by the reaper.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { workloadSettings } from "../config/defaults";
import { KubernetesVersion, POOL_LABEL_KEY, STACK_LABEL_KEY, WorkloadSettings } from "../config/settings";
import { KUBELET_KUBECONFIG_KEY, PROXY_KUBECONFIG_KEY, shardCount } from "../credentials/kubeconfigs";
import { targetCredentialObjects } from "../credentials/policy";
import { TargetCredentials } from "../credentials/targetCredentials";
import { OwnershipGuard } from "../ownership/guard";
import { APPLY_ANNOTATIONS, expectedNodeNames, nodeClusterObjects } from "../ownership/rules";
import { HollowNodeSync, NodeReaper } from "../reaper/resources";
import { LAST_WORKLOAD_SUFFIX, PodLayout, podLayout, statefulNodeNames } from "./names";
import { partNodeSelector, partPodSelector, PoolPart, poolParts } from "./pools";
import { Manifest, podLabels, stackNodeSelector, stackPodSelector, workloadManifest } from "./podspec";

/** Every setting left out falls back to the named default in config/defaults.ts (see WorkloadSettings). */
export interface HollowNodesArgs extends Partial<WorkloadSettings> {
    /** Provider of the node cluster, where the namespace, Secret and workload are created. Required. */
    nodeClusterProvider: k8s.Provider;
    /** Namespace of this stack's hollow pods. Required. */
    namespace: string;
    /** Workload name; StatefulSet pods, and so hollow Nodes, are named `<workloadName>-<ordinal>`. Required. */
    workloadName: string;
    /** Value of the `kubemark-pulumi/stack` label that marks this stack's Nodes. Required. */
    stackLabelValue: string;
    /** The kubemark image to run. Required. */
    image: pulumi.Input<string>;
    /** Provider of the target cluster, for the hollow nodes' identities there. Required. */
    targetClusterProvider: k8s.Provider;
    /**
     * The operator's kubeconfig of the target: used here (Pulumi, the dynamic providers) to issue the hollow
     * nodes their own credentials, never handed to pods. Required; stored as a secret.
     */
    targetKubeconfig: pulumi.Input<string>;
    /** Stack-owned namespace in the target for the hollow nodes' ServiceAccounts. Required. */
    identityNamespace: string;
    /** Kubeconfig of the node cluster, for the reaper's and sync's pod checks. Required; stored as a secret. */
    nodeKubeconfig: pulumi.Input<string>;
    /**
     * The release the image's hollow kubelets run, vMAJOR.MINOR.PATCH: their shared identity carries what that
     * release's kubelet uses, and `up` waits until every Node reports it. Required.
     */
    kubernetesVersion: KubernetesVersion;
}

/** What the stack exports of each pool. */
export interface PoolSummary {
    readonly name: string;
    readonly replicas: number;
    readonly nodesPerPod: number;
    readonly workloads: string[];
    readonly nodeSelector: string;
}

/** The pod template annotation whose change restarts the hollow nodes on renewed credentials. */
export const CREDENTIALS_ANNOTATION = "kubemark-pulumi/credentials";
/** Hex digits of the workload fingerprint: 64 bits, so two different specs never share one in practice. */
const FINGERPRINT_CHARS = 16;
const fingerprint = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, FINGERPRINT_CHARS);

/** The names a stack's node-cluster objects take. */
function objectNames(workloadName: string, certificateNodes: number) {
    return {
        secret: `${workloadName}-kubeconfig`,
        certSecrets: Array.from({ length: shardCount(certificateNodes) }, (_, k) => `${workloadName}-certs-${k}`),
    };
}

/** A part's two workloads: the full pods, and `-last` holding the rest (0 or 1 pod). */
function workloadParts(part: PoolPart) {
    const layout: PodLayout = podLayout(part.replicas, part.pool.nodesPerPod);
    return [
        { part, role: "workload", workloadName: part.workloadName, pods: layout.fullPods, nodesInPod: layout.indexed ? layout.nodesPerPod : undefined },
        {
            part, role: "last", workloadName: `${part.workloadName}${LAST_WORKLOAD_SUFFIX}`, pods: layout.rest > 0 ? 1 : 0,
            nodesInPod: layout.indexed ? Math.max(layout.rest, 1) : undefined,
        },
    ];
}

export class HollowNodes extends pulumi.ComponentResource {
    public readonly namespace: pulumi.Output<string>;
    public readonly workloadName: pulumi.Output<string>;
    /** Label selector of exactly this stack's hollow Nodes in the target. */
    public readonly nodeSelector: pulumi.Output<string>;
    public readonly replicas: pulumi.Output<number>;
    public readonly nodesPerPod: pulumi.Output<number>;
    /** Hollow pods the workloads run: the full ones and the last. */
    public readonly pods: pulumi.Output<number>;
    public readonly readyNodes: pulumi.Output<number>;
    /** Each pool: its Nodes, workloads and the label selector of exactly its Nodes. */
    public readonly pools: pulumi.Output<PoolSummary[]>;

    constructor(name: string, args: HollowNodesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kubemark:index:HollowNodes", name, {}, opts);
        const o = workloadSettings(args);
        const provider = args.nodeClusterProvider;
        const selector = stackNodeSelector(args.stackLabelValue);
        const targetKubeconfig = pulumi.secret(args.targetKubeconfig);
        const nodeKubeconfig = pulumi.secret(args.nodeKubeconfig);
        const parts = poolParts(name, args.workloadName, o.pools);
        // One workload of the default pool: every input below is as it was before pools existed.
        const single = parts.length === 1 && parts[0].workloadName === args.workloadName;
        const replicas = parts.reduce((n, p) => n + p.replicas, 0);
        const nodeNames = expectedNodeNames(o.workloadKind, args.workloadName, single ? replicas : 0);
        // Only StatefulSet pods have names known in advance, so only they can carry a certificate of their own.
        const perNodeCertificates = o.workloadKind === "StatefulSet";
        const nodeGroups = parts.map((p) => ({ workloadName: p.workloadName, replicas: p.replicas, nodesPerPod: p.pool.nodesPerPod }));
        const certNodeNames = perNodeCertificates ? nodeGroups.flatMap((g) => statefulNodeNames(g.workloadName, g.replicas, g.nodesPerPod)) : [];
        const names = objectNames(args.workloadName, certNodeNames.length);

        // First in the graph: everything below waits for it, so a refusal changes nothing in either cluster.
        const guard = new OwnershipGuard(`${name}-ownership`, {
            nodeKubeconfig, targetKubeconfig, stackLabelKey: STACK_LABEL_KEY, stackLabelValue: args.stackLabelValue,
            nodeObjects: nodeClusterObjects({
                createNamespace: o.createNamespace, namespace: args.namespace, secretNames: [names.secret, ...names.certSecrets],
                workloadNames: parts.map((p) => p.workloadName), workloadKind: o.workloadKind,
            }),
            targetObjects: targetCredentialObjects({
                namespace: args.identityNamespace, stackLabelValue: args.stackLabelValue, hollowProxy: o.hollowProxy, perNodeCertificates,
            }),
            existingNamespace: o.createNamespace ? "" : args.namespace,
            nodeNamePrefix: nodeNames.prefix,
            nodeCount: nodeNames.count,
            nodesPerPod: single ? parts[0].pool.nodesPerPod : o.nodesPerPod,
            ...(single || !perNodeCertificates ? {} : { nodeGroups }),
        }, { parent: this });
        const childOpts = { parent: this, provider, dependsOn: [guard] };

        const namespace = o.createNamespace
            ? new k8s.core.v1.Namespace(`${name}-namespace`, {
                metadata: { name: args.namespace, labels: { [STACK_LABEL_KEY]: args.stackLabelValue }, annotations: { ...APPLY_ANNOTATIONS } },
            }, childOpts).metadata.name
            : pulumi.output(args.namespace);

        const credentials = new TargetCredentials(`${name}-credentials`, {
            targetProvider: args.targetClusterProvider, targetKubeconfig, namespace: args.identityNamespace,
            stackLabelValue: args.stackLabelValue, nodeNames: perNodeCertificates ? certNodeNames : undefined, hollowProxy: o.hollowProxy,
            nodeNamePrefix: nodeNames.prefix, lifetimeHours: o.credentialLifetimeHours, after: [guard],
            kubeletMinor: args.kubernetesVersion.minor,
        }, { parent: this });
        const secretMetadata = (secret: string) => ({
            name: secret, namespace, labels: podLabels(args), annotations: { ...APPLY_ANNOTATIONS },
        });
        // Only what the hollow nodes need: their kubeconfigs (no admin credential) and their own certificates.
        const secrets = [new k8s.core.v1.Secret(`${name}-kubeconfig`, {
            metadata: secretMetadata(names.secret),
            type: "Opaque",
            stringData: pulumi.all([credentials.kubeletKubeconfig, credentials.proxyKubeconfig]).apply(([kubelet, proxy]): Record<string, string> =>
                (o.hollowProxy ? { [KUBELET_KUBECONFIG_KEY]: kubelet, [PROXY_KUBECONFIG_KEY]: proxy } : { [KUBELET_KUBECONFIG_KEY]: kubelet })),
        }, childOpts)];
        names.certSecrets.forEach((secret, k) => secrets.push(new k8s.core.v1.Secret(`${name}-certs-${k}`, {
            metadata: secretMetadata(secret),
            type: "Opaque",
            stringData: credentials.certificateShards.apply((shards) => shards[k] ?? {}),
        }, childOpts)));

        const target = {
            targetKubeconfig, nodeKubeconfig, selector, selectorKey: STACK_LABEL_KEY,
            namespace: args.namespace, podSelector: stackPodSelector(args.stackLabelValue),
        };
        const reaper = new NodeReaper(`${name}-reaper`, { ...target, timeoutSeconds: o.reaperTimeoutSeconds }, { parent: this, dependsOn: [guard] });
        // A part (pool, or pool and zone) leaving the config: the engine deletes its workloads after the sync, then
        // this reaper, which removes the part's Nodes once its pods are gone.
        const partReapers = new Map(parts.map((p) => [p.workloadName, new NodeReaper(`${p.resourcePrefix}-part-reaper`, {
            ...target, selector: partNodeSelector(selector, p), podSelector: partPodSelector(target.podSelector, p.workloadName),
            timeoutSeconds: o.reaperTimeoutSeconds,
        }, { parent: this, dependsOn: [guard] })]));

        // `-last` always exists (0 or 1 pod) so that a change of the rest is an update the sweep waits for, never a
        // delete the engine would run after it.
        const workloadsOfParts = parts.flatMap(workloadParts);
        // Each part rolls on its own Nodes' renewed credentials only, so that adding or removing a pool rolls no other.
        const generationOf = (part: PoolPart) => (single || !perNodeCertificates ? credentials.generation
            : credentials.generationOf(statefulNodeNames(part.workloadName, part.replicas, part.pool.nodesPerPod)));
        const manifests = workloadsOfParts.map((w) => pulumi.unsecret(pulumi.all([args.image, generationOf(w.part)]).apply(([image, generation]) => {
            const pool = w.part.pool;
            const m = workloadManifest({
                ...o, kind: o.workloadKind, namespace: args.namespace, replicas: w.pods, image, nodesInPod: w.nodesInPod,
                credentialSecrets: [names.secret, ...names.certSecrets], perNodeCertificates,
                workloadName: w.workloadName, stackLabelValue: args.stackLabelValue,
                nodeLabels: w.part.nodeLabels, nodeTaints: pool.nodeTaints, maxPods: pool.maxPods, extendedResources: pool.extendedResources,
                kubeletResources: pool.kubeletResources, proxyResources: pool.proxyResources, capacity: pool.capacity, poolName: pool.name,
            });
            // Renewed credentials must restart the hollow nodes: files mounted by subPath never change in a running
            // pod.
            m.spec.template.metadata.annotations = { ...m.spec.template.metadata.annotations, [CREDENTIALS_ANNOTATION]: generation };
            m.metadata.annotations = { ...m.metadata.annotations, ...APPLY_ANNOTATIONS };
            return m;
        })));
        const workloads = workloadsOfParts.map((w, i) => workloadResource(o.workloadKind, `${w.part.resourcePrefix}-${w.role}`, manifests[i],
            { parent: this, provider, dependsOn: [reaper, partReapers.get(w.part.workloadName)!, ...secrets] }));

        const sync = new HollowNodeSync(`${name}-sync`, {
            ...target,
            replicas,
            nodesPerPod: single ? parts[0].pool.nodesPerPod : o.nodesPerPod,
            ...(single ? {} : { parts: parts.map((p) => ({ replicas: p.replicas, nodesPerPod: p.pool.nodesPerPod, workloadName: p.workloadName })) }),
            ...(o.podCidrRange === "" ? {} : { podCidrRange: o.podCidrRange, podCidrMaskSize: o.podCidrMaskSize }),
            readyTimeoutSeconds: o.readyTimeoutSeconds,
            sweepTimeoutSeconds: o.reaperTimeoutSeconds,
            workloadFingerprint: pulumi.all(manifests).apply((ms) => fingerprint(JSON.stringify(ms))),
            kubeletVersion: args.kubernetesVersion.text,
        }, { parent: this, dependsOn: workloads });

        this.namespace = namespace;
        this.workloadName = pulumi.output(args.workloadName);
        this.nodeSelector = pulumi.output(selector);
        this.replicas = pulumi.output(replicas);
        this.nodesPerPod = pulumi.output(single ? parts[0].pool.nodesPerPod : o.nodesPerPod);
        this.pods = pulumi.output(workloadsOfParts.reduce((n, w) => n + w.pods, 0));
        this.pools = pulumi.output(o.pools.map((p) => ({
            name: p.name, replicas: p.replicas, nodesPerPod: p.nodesPerPod,
            workloads: parts.filter((x) => x.pool.name === p.name).map((x) => x.workloadName),
            nodeSelector: `${selector},${POOL_LABEL_KEY}=${p.name}`,
        })));
        this.readyNodes = sync.readyNodes;
        this.registerOutputs({
            namespace: this.namespace, workloadName: this.workloadName, nodeSelector: this.nodeSelector,
            replicas: this.replicas, nodesPerPod: this.nodesPerPod, pods: this.pods, readyNodes: this.readyNodes, pools: this.pools,
        });
    }
}

/** The workload of the stack's kind, from its manifest. */
function workloadResource(kind: WorkloadSettings["workloadKind"], name: string, manifest: pulumi.Output<Manifest>,
    opts: pulumi.CustomResourceOptions): pulumi.CustomResource {
    const args = { metadata: manifest.metadata, spec: manifest.spec };
    switch (kind) {
        case "StatefulSet":
            return new k8s.apps.v1.StatefulSet(name, args, opts);
        case "Deployment":
            return new k8s.apps.v1.Deployment(name, args, opts);
        case "ReplicationController":
            return new k8s.core.v1.ReplicationController(name, args, opts);
    }
}
