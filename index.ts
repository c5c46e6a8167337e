// Reads the stack's config, composes the kubemark components and exports what users look at.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { readConfig, workloadSettings } from "./components/config";
import { HollowNodes } from "./components/hollow";
import { KubemarkImage, kubemarkImageArgs } from "./components/image";

const { settings, clusters } = readConfig();

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

const image = settings.image.kind === "prebuilt"
    ? pulumi.output(settings.image.reference)
    : new KubemarkImage("kubemark", kubemarkImageArgs(settings, settings.image)).imageRef;

const hollow = new HollowNodes("hollow-nodes", {
    ...workloadSettings(settings),
    namespace: settings.namespace,
    workloadName: settings.workloadName,
    stackLabelValue: settings.stackLabelValue,
    identityNamespace: settings.identityNamespace,
    image,
    nodeClusterProvider: nodeCluster,
    targetClusterProvider: targetCluster,
    nodeKubeconfig: clusters.node.kubeconfig,
    targetKubeconfig: clusters.target.kubeconfig,
    kubernetesVersion: settings.kubernetesVersion,
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
export const pools = hollow.pools;
