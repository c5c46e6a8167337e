// Reads the stack's config, composes the kubemark components and exports what users look at.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { readSettings } from "./components/config";
import { HollowNodes } from "./components/hollowNodes";
import { imageReference } from "./components/image";
import { readClusters } from "./components/kubeconfig";

const settings = readSettings();
const clusters = readClusters(settings);

const nodeCluster = new k8s.Provider("node-cluster", {
    kubeconfig: pulumi.secret(clusters.node.kubeconfig),
    context: clusters.node.context,
});

const image = imageReference(settings.image, settings.kubernetesVersion);

const hollow = new HollowNodes("hollow-nodes", {
    nodeClusterProvider: nodeCluster,
    namespace: settings.namespace,
    workloadName: settings.workloadName,
    stackLabelValue: settings.stackLabelValue,
    image,
    targetKubeconfig: clusters.target.kubeconfig,
    nodeKubeconfig: clusters.node.kubeconfig,
    replicas: settings.replicas,
    workloadKind: settings.workloadKind,
    initImage: settings.initImage,
    imageService: settings.imageService,
    criSocket: settings.criSocket,
    hollowProxy: settings.hollowProxy,
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
export const readyNodes = hollow.readyNodes;
