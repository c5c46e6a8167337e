// HollowNodes: namespace, credential Secrets and hollow-node workload in the node cluster, guarded by the reaper.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import {
    ContainerResources, CRI_SOCKETS, DEFAULT_HOLLOW_PROXY, DEFAULT_IMAGE_SERVICE, DEFAULT_INIT_IMAGE,
    DEFAULT_CREATE_NAMESPACE, DEFAULT_KUBELET_CPU, DEFAULT_NODES_PER_POD, DEFAULT_PRIVILEGED, DEFAULT_KUBELET_MEMORY, DEFAULT_LOG_VERBOSITY, DEFAULT_MAX_PODS, DEFAULT_NODE_TAINT,
    DEFAULT_READY_TIMEOUT_SECONDS, DEFAULT_REAPER_TIMEOUT_SECONDS, DEFAULT_REPLICAS,
    DEFAULT_WORKLOAD_KIND, defaultProxyResources, ImageService, STACK_LABEL_KEY, Taint,
    WorkloadKind,
} from "../config/read";
import { HollowNodeSync, NodeReaper } from "../reaper/resources";
import { APPLY_ANNOTATIONS, expectedNodeNames, nodeClusterObjects } from "../ownership/rules";
import { OwnershipGuard } from "../ownership/guard";
import { KUBELET_KUBECONFIG_KEY, PROXY_KUBECONFIG_KEY, shardCount } from "../credentials/kubeconfigs";
import { LAST_WORKLOAD_SUFFIX, podLayout, statefulNodeNames } from "./names";
import { KUBEMARK_IMAGE_ENDPOINT, podLabels, stackNodeSelector, stackPodSelector, workloadManifest } from "./podspec";
import { TargetCredentials, targetCredentialObjects } from "../credentials/targetCredentials";

export interface HollowNodesArgs {
    /** Provider of the node cluster, where the namespace, Secret and workload are created. Required. */
    nodeClusterProvider: k8s.Provider;
    /** Namespace of this stack's hollow pods. Required. */
    namespace: string;
    /** Create the namespace (and delete it on destroy); false uses an existing one, left as it is. Defaults to true. */
    createNamespace?: boolean;
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
    /** Stack-owned namespace in the target for the hollow proxy's ServiceAccount. Required. */
    identityNamespace: string;
    /** Lifetime of the per-node certificates and the proxy token; `up` renews them in its second half. Defaults to 168 hours. */
    credentialLifetimeHours?: number;
    /** Kubeconfig of the node cluster, for the reaper's and sync's pod checks. Required; stored as a secret. */
    nodeKubeconfig: pulumi.Input<string>;
    /** Number of hollow nodes. Defaults to DEFAULT_REPLICAS (10). */
    replicas?: number;
    /**
     * Hollow nodes per pod, named `<pod>-<k>`; the workload gets the full pods, a second one (`<workloadName>-last`,
     * 0 or 1 pod) holds the rest. Defaults to 1: one per pod, named as the pod, as upstream.
     */
    nodesPerPod?: number;
    /** StatefulSet, Deployment or ReplicationController. Defaults to StatefulSet. */
    workloadKind?: WorkloadKind;
    /** Image with `sh` and `sysctl` for the inotify init container. Defaults to busybox:1.36. */
    initImage?: string;
    /** `fake` (kubemark's own, no socket) or `host` (the node's CRI). Defaults to fake. */
    imageService?: ImageService;
    /** Host path of the CRI socket, mounted for the host image service. Defaults to containerd's socket. */
    criSocket?: string;
    /** Where the kubemark binary dials the image service. Defaults to /run/containerd/containerd.sock (upstream's hard-coded path). */
    imageEndpoint?: string;
    /** Run the hollow kube-proxy container. Defaults to true. */
    hollowProxy?: boolean;
    /** Run the inotify init container and the hollow kubelet privileged; false drops the init container. Defaults to true. */
    privileged?: boolean;
    /** Extra Node labels, sorted by key. Defaults to none. */
    nodeLabels?: readonly (readonly [string, string])[];
    /** Node taints. Defaults to kubemark-pulumi/hollow-node=true:NoSchedule. */
    nodeTaints?: readonly Taint[];
    /** `--max-pods` of each hollow kubelet. Defaults to 110. */
    maxPods?: number;
    /** Extended resources each hollow Node advertises, sorted by name. Defaults to none. */
    extendedResources?: readonly (readonly [string, string])[];
    /** Hollow kubelet requests, per hollow node. Defaults to 20m CPU and 40Mi (measured, with headroom). */
    kubeletResources?: ContainerResources;
    /** Hollow proxy requests, per hollow node. Defaults to 5m CPU (50m above 1000 nodes) and 32Mi + 50Ki per node. */
    proxyResources?: ContainerResources;
    /** klog verbosity of both containers. Defaults to 2. */
    logVerbosity?: number;
    /** Bound on up's wait for Ready Nodes; 0 skips it. Defaults to 600. */
    readyTimeoutSeconds?: number;
    /** Bound on destroy's Node removal and on up's stale-Node sweep. Defaults to 180. */
    reaperTimeoutSeconds?: number;
}

const digest = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 16);

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

    constructor(name: string, args: HollowNodesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("kubemark:index:HollowNodes", name, {}, opts);
        const provider = args.nodeClusterProvider;
        const replicas = args.replicas ?? DEFAULT_REPLICAS;
        const kind = args.workloadKind ?? DEFAULT_WORKLOAD_KIND;
        const selector = stackNodeSelector(args.stackLabelValue);
        const labels = podLabels({ workloadName: args.workloadName, stackLabelValue: args.stackLabelValue });
        const podSelector = stackPodSelector(args.stackLabelValue);
        const targetKubeconfig = pulumi.secret(args.targetKubeconfig);
        const nodeKubeconfig = pulumi.secret(args.nodeKubeconfig);
        const reaperTimeoutSeconds = args.reaperTimeoutSeconds ?? DEFAULT_REAPER_TIMEOUT_SECONDS;

        const createNamespace = args.createNamespace ?? DEFAULT_CREATE_NAMESPACE;
        const secretName = `${args.workloadName}-kubeconfig`;
        const nodesPerPod = args.nodesPerPod ?? DEFAULT_NODES_PER_POD;
        const layout = podLayout(replicas, nodesPerPod);
        const nodeNames = expectedNodeNames(kind, args.workloadName, replicas);
        const hollowProxy = args.hollowProxy ?? DEFAULT_HOLLOW_PROXY;
        // Only StatefulSet pods have names known in advance, so only they can carry a certificate of their own.
        const perNodeCertificates = kind === "StatefulSet";
        const certNodeNames = perNodeCertificates ? statefulNodeNames(args.workloadName, replicas, nodesPerPod) : [];
        const certSecretNames = Array.from({ length: shardCount(certNodeNames.length) }, (_, k) => `${args.workloadName}-certs-${k}`);
        // First in the graph: everything below waits for it, so a refusal changes nothing in either cluster.
        const guard = new OwnershipGuard(`${name}-ownership`, {
            nodeKubeconfig, targetKubeconfig, stackLabelKey: STACK_LABEL_KEY, stackLabelValue: args.stackLabelValue,
            nodeObjects: nodeClusterObjects({
                createNamespace, namespace: args.namespace, secretNames: [secretName, ...certSecretNames], workloadName: args.workloadName, workloadKind: kind,
            }),
            targetObjects: targetCredentialObjects({ namespace: args.identityNamespace, stackLabelValue: args.stackLabelValue, hollowProxy, perNodeCertificates }),
            existingNamespace: createNamespace ? "" : args.namespace,
            nodeNamePrefix: nodeNames.prefix,
            nodeCount: nodeNames.count,
            nodesPerPod,
        }, { parent: this });

        const namespace = createNamespace
            ? new k8s.core.v1.Namespace(`${name}-namespace`, {
                metadata: { name: args.namespace, labels: { [STACK_LABEL_KEY]: args.stackLabelValue }, annotations: { ...APPLY_ANNOTATIONS } },
            }, { parent: this, provider, dependsOn: [guard] }).metadata.name
            : pulumi.output(args.namespace);

        const credentials = new TargetCredentials(`${name}-credentials`, {
            targetProvider: args.targetClusterProvider, targetKubeconfig, namespace: args.identityNamespace,
            stackLabelValue: args.stackLabelValue, nodeNames: perNodeCertificates ? certNodeNames : undefined, hollowProxy,
            nodeNamePrefix: nodeNames.prefix,
            lifetimeHours: args.credentialLifetimeHours, after: [guard],
        }, { parent: this });
        const secretMetadata = (secret: string) => ({ name: secret, namespace, labels, annotations: { ...APPLY_ANNOTATIONS } });
        // Only what the hollow nodes need: their kubeconfigs (no admin credential) and their own certificates.
        const secrets = [new k8s.core.v1.Secret(`${name}-kubeconfig`, {
            metadata: secretMetadata(secretName),
            type: "Opaque",
            stringData: pulumi.all([credentials.kubeletKubeconfig, credentials.proxyKubeconfig]).apply(([kubelet, proxy]): Record<string, string> =>
                (hollowProxy ? { [KUBELET_KUBECONFIG_KEY]: kubelet, [PROXY_KUBECONFIG_KEY]: proxy } : { [KUBELET_KUBECONFIG_KEY]: kubelet })),
        }, { parent: this, provider, dependsOn: [guard] })];
        certSecretNames.forEach((secret, k) => secrets.push(new k8s.core.v1.Secret(`${name}-certs-${k}`, {
            metadata: secretMetadata(secret),
            type: "Opaque",
            stringData: credentials.certificateShards.apply((shards) => shards[k] ?? {}),
        }, { parent: this, provider, dependsOn: [guard] })));

        const target = {
            targetKubeconfig, nodeKubeconfig, selector, selectorKey: STACK_LABEL_KEY,
            namespace: args.namespace, podSelector,
        };
        const reaper = new NodeReaper(`${name}-reaper`, { ...target, timeoutSeconds: reaperTimeoutSeconds }, { parent: this, dependsOn: [guard] });

        // The main workload runs the full pods; `-last` always exists (0 or 1 pod) so that a change of the rest is an
        // update the sweep waits for, never a delete the engine would run after it.
        const parts = [
            { role: "workload", workloadName: args.workloadName, pods: layout.fullPods, nodesInPod: layout.indexed ? nodesPerPod : undefined },
            { role: "last", workloadName: `${args.workloadName}${LAST_WORKLOAD_SUFFIX}`, pods: layout.rest > 0 ? 1 : 0, nodesInPod: layout.indexed ? Math.max(layout.rest, 1) : undefined },
        ];
        const manifests = parts.map((part) => pulumi.unsecret(pulumi.all([args.image, credentials.generation]).apply(([image, generation]) => {
            const m = workloadManifest({
                kind, namespace: args.namespace, replicas: part.pods, image, nodesInPod: part.nodesInPod,
                credentialSecrets: [secretName, ...certSecretNames], perNodeCertificates,
                workloadName: part.workloadName, stackLabelValue: args.stackLabelValue,
                initImage: args.initImage ?? DEFAULT_INIT_IMAGE,
                imageService: args.imageService ?? DEFAULT_IMAGE_SERVICE,
                criSocket: args.criSocket ?? CRI_SOCKETS.containerd,
                imageEndpoint: args.imageEndpoint ?? KUBEMARK_IMAGE_ENDPOINT,
                hollowProxy,
                privileged: args.privileged ?? DEFAULT_PRIVILEGED,
                nodeLabels: args.nodeLabels ?? [],
                nodeTaints: args.nodeTaints ?? [DEFAULT_NODE_TAINT],
                maxPods: args.maxPods ?? DEFAULT_MAX_PODS,
                extendedResources: args.extendedResources ?? [],
                kubeletResources: args.kubeletResources ?? { cpu: DEFAULT_KUBELET_CPU, memory: DEFAULT_KUBELET_MEMORY },
                proxyResources: args.proxyResources ?? defaultProxyResources(replicas),
                logVerbosity: args.logVerbosity ?? DEFAULT_LOG_VERBOSITY,
            });
            // Renewed credentials must restart the hollow nodes: files mounted by subPath never change in a running pod.
            m.spec.template.metadata.annotations = { ...m.spec.template.metadata.annotations, "kubemark-pulumi/credentials": generation };
            m.metadata.annotations = { ...m.metadata.annotations, ...APPLY_ANNOTATIONS };
            return m;
        })));
        const workloads = parts.map((part, i): pulumi.CustomResource => {
            const workloadArgs = { metadata: manifests[i].metadata, spec: manifests[i].spec };
            const workloadOpts = { parent: this, provider, dependsOn: [reaper, ...secrets] };
            return kind === "StatefulSet"
                ? new k8s.apps.v1.StatefulSet(`${name}-${part.role}`, workloadArgs, workloadOpts)
                : kind === "Deployment"
                    ? new k8s.apps.v1.Deployment(`${name}-${part.role}`, workloadArgs, workloadOpts)
                    : new k8s.core.v1.ReplicationController(`${name}-${part.role}`, workloadArgs, workloadOpts);
        });

        const sync = new HollowNodeSync(`${name}-sync`, {
            ...target,
            replicas,
            readyTimeoutSeconds: args.readyTimeoutSeconds ?? DEFAULT_READY_TIMEOUT_SECONDS,
            sweepTimeoutSeconds: reaperTimeoutSeconds,
            workloadFingerprint: pulumi.all(manifests).apply((ms) => digest(JSON.stringify(ms))),
        }, { parent: this, dependsOn: workloads });

        this.namespace = namespace;
        this.workloadName = pulumi.output(args.workloadName);
        this.nodeSelector = pulumi.output(selector);
        this.replicas = pulumi.output(replicas);
        this.nodesPerPod = pulumi.output(nodesPerPod);
        this.pods = pulumi.output(layout.fullPods + (layout.rest > 0 ? 1 : 0));
        this.readyNodes = sync.readyNodes;
        this.registerOutputs({
            namespace: this.namespace, workloadName: this.workloadName, nodeSelector: this.nodeSelector,
            replicas: this.replicas, nodesPerPod: this.nodesPerPod, pods: this.pods, readyNodes: this.readyNodes,
        });
    }
}
