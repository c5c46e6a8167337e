// Reads the stack's config, composes the kubemark components and exports what users look at.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { readSettings } from "./components/config/read";
import { HollowNodes } from "./components/hollow/hollowNodes";
import { readClusters } from "./components/config/kubeconfig";
import { KubemarkImage } from "./components/image/kubemarkImage";
import { imageTag, patchesFor } from "./components/image/patches";
import { KUBEMARK_IMAGE_ENDPOINT } from "./components/hollow/podspec";

const settings = readSettings();
const clusters = readClusters(settings);

const nodeCluster = new k8s.Provider("node-cluster", {
    kubeconfig: pulumi.secret(clusters.node.kubeconfig),
    context: clusters.node.context,
});

// The operator's own target credentials (exec plugins and auth providers included) stay on this machine:
// Pulumi and the dynamic providers use them to give the hollow nodes identities of their own.
const targetCluster = settings.targetCluster.sameAsNodeCluster ? nodeCluster : new k8s.Provider("target-cluster", {
    kubeconfig: pulumi.secret(clusters.target.kubeconfig),
    context: clusters.target.context,
});

const build = settings.imageBuild;
const patches = patchesFor(settings.kubernetesVersion, {
    crioSocket: build.patchCrio ? settings.criSocket : undefined,
    proxyHealth: build.patchProxyHealth,
});
const image = settings.image.kind === "prebuilt"
    ? pulumi.output(settings.image.reference)
    : new KubemarkImage("kubemark", {
        version: settings.kubernetesVersion.text,
        registry: settings.image.registry,
        imageName: settings.image.name,
        tag: imageTag(settings.kubernetesVersion, patches),
        patches,
        source: build.source,
        gitRepository: build.gitRepository,
        cacheDir: build.cacheDir,
        baseImage: build.baseImage,
        registryUsername: build.registryUsername,
        registryPassword: build.registryPassword === undefined ? undefined : pulumi.secret(build.registryPassword),
    }).imageRef;

const hollow = new HollowNodes("hollow-nodes", {
    nodeClusterProvider: nodeCluster,
    namespace: settings.namespace,
    createNamespace: settings.createNamespace,
    workloadName: settings.workloadName,
    stackLabelValue: settings.stackLabelValue,
    image,
    targetClusterProvider: targetCluster,
    targetKubeconfig: clusters.target.kubeconfig,
    identityNamespace: settings.identityNamespace,
    credentialLifetimeHours: settings.credentialLifetimeHours,
    nodeKubeconfig: clusters.node.kubeconfig,
    replicas: settings.replicas,
    nodesPerPod: settings.nodesPerPod,
    workloadKind: settings.workloadKind,
    initImage: settings.initImage,
    imageService: settings.imageService,
    criSocket: settings.criSocket,
    imageEndpoint: build.patchCrio ? settings.criSocket : KUBEMARK_IMAGE_ENDPOINT,
    hollowProxy: settings.hollowProxy,
    privileged: settings.privileged,
    nodeLabels: settings.nodeLabels,
    nodeTaints: settings.nodeTaints,
    maxPods: settings.maxPods,
    extendedResources: settings.extendedResources,
    kubeletResources: settings.kubeletResources,
    proxyResources: settings.proxyResources,
    logVerbosity: settings.logVerbosity,
    readyTimeoutSeconds: settings.readyTimeoutSeconds,
    reaperTimeoutSeconds: settings.reaperTimeoutSeconds,
});

export const kubernetesVersion = settings.kubernetesVersion.text;
export const imageRef = image;
export const namespace = hollow.namespace;
export const workload = pulumi.interpolate`${settings.workloadKind}/${hollow.workloadName}`;
export const nodeSelector = hollow.nodeSelector;
export const replicas = hollow.replicas;
export const nodesPerPod = hollow.nodesPerPod;
export const pods = hollow.pods;
export const readyNodes = hollow.readyNodes;
