// Test stand-ins for hollow kubelets against real API servers: clients, Node registration, and a kubelet loop.
import * as k8s from "@kubernetes/client-node";
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import * as yaml from "js-yaml";
import type { ControlPlane } from "./controlPlane";

export function clients(cp: ControlPlane) {
    const kc = new k8s.KubeConfig();
    kc.loadFromString(cp.kubeconfig);
    return {
        core: kc.makeApiClient(k8s.CoreV1Api), coordination: kc.makeApiClient(k8s.CoordinationV1Api), apps: kc.makeApiClient(k8s.AppsV1Api),
        scheduling: kc.makeApiClient(k8s.SchedulingV1Api),
    };
}

/** Does what a kubelet does on start: register its Node (labels, taints), report Ready, take a Lease. */
export async function register(cp: ControlPlane, name: string, labels: Record<string, string>, taints: k8s.V1Taint[] = [],
    kubeletVersion = "v1.31.0"): Promise<void> {
    await registerAs(cp.kubeconfig, name, labels, taints, kubeletVersion);
}

/** A kubelet's status report: a JSON patch of `nodes/status`, as kubelets PATCH it (never PUT). */
export function reportStatus(core: k8s.CoreV1Api, name: string, status: k8s.V1NodeStatus) {
    return core.patchNodeStatus({ name, body: [{ op: "add", path: "/status", value: status }] }, setHeaderOptions("Content-Type", PatchStrategy.JsonPatch));
}

/** The same, with the given identity: a hollow node's own credentials, to show they suffice. */
export async function registerAs(kubeconfig: string, name: string, labels: Record<string, string>, taints: k8s.V1Taint[] = [],
    kubeletVersion = "v1.31.0"): Promise<void> {
    const kc = new k8s.KubeConfig();
    kc.loadFromString(kubeconfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const coordination = kc.makeApiClient(k8s.CoordinationV1Api);
    await core.createNode({ body: { metadata: { name, labels }, spec: { taints } } });
    const now = new Date();
    await reportStatus(core, name, {
        conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", message: "test", lastHeartbeatTime: now, lastTransitionTime: now }],
        nodeInfo: {
            kubeletVersion, kubeProxyVersion: kubeletVersion, architecture: "amd64", operatingSystem: "linux", bootID: "", machineID: "",
            systemUUID: "", containerRuntimeVersion: "fakeRuntime://0.1.0", kernelVersion: "", osImage: "",
        },
    });
    await coordination.createNamespacedLease({ namespace: "kube-node-lease", body: { metadata: { name }, spec: { holderIdentity: name, leaseDurationSeconds: 40 } } });
}

export async function nodeNames(cp: ControlPlane, selector?: string): Promise<string[]> {
    return (await clients(cp).core.listNode(selector ? { labelSelector: selector } : {})).items.map((n) => n.metadata!.name!).sort();
}

export async function leaseNames(cp: ControlPlane): Promise<string[]> {
    return (await clients(cp).coordination.listNamespacedLease({ namespace: "kube-node-lease" })).items.map((l) => l.metadata!.name!).sort();
}

/**
 * The kubeconfig a hollow kubelet of `pod` would use: its `kubelet.kubeconfig` from the pod's credential
 * Secrets, with the certificate files it mounts by subPathExpr (its own, by Node name) inlined.
 */
export async function podKubeconfig(nodeCluster: ControlPlane, pod: k8s.V1Pod, nodeName = pod.metadata!.name!): Promise<string> {
    const { core } = clients(nodeCluster);
    const namespace = pod.metadata!.namespace!;
    const sources = pod.spec!.volumes!.find((v) => v.name === "credentials")!.projected!.sources!;
    const data: Record<string, string> = {};
    for (const source of sources) {
        const secret = await core.readNamespacedSecret({ namespace, name: source.secret!.name! });
        for (const [k, v] of Object.entries(secret.data ?? {})) {
            data[k] = Buffer.from(v, "base64").toString("utf8");
        }
    }
    const doc = yaml.load(data["kubelet.kubeconfig"]) as { users: { user: Record<string, string> }[] };
    const user = doc.users[0].user;
    if (user["client-certificate"]) {
        user["client-certificate-data"] = Buffer.from(data[`${nodeName}.crt`]).toString("base64");
        user["client-key-data"] = Buffer.from(data[`${nodeName}.key`]).toString("base64");
        delete user["client-certificate"];
        delete user["client-key"];
    }
    return yaml.dump(doc);
}

/** What a kubelet reports once a pod's containers run: phase Running, Ready, containers ready. */
async function markRunning(nodeCluster: ControlPlane, pod: k8s.V1Pod): Promise<void> {
    const now = new Date();
    pod.status = {
        ...pod.status, phase: "Running", startTime: now,
        conditions: ["PodScheduled", "Initialized", "ContainersReady", "Ready"].map((type) => ({ type, status: "True", lastTransitionTime: now })),
    };
    await clients(nodeCluster).core.replaceNamespacedPodStatus({ name: pod.metadata!.name!, namespace: pod.metadata!.namespace!, body: pod });
}

/** Plays the hollow kubelets: every hollow pod in the node cluster registers a Node built from its real flags. */
export function fakeKubelets(nodeCluster: ControlPlane, target: ControlPlane, namespace: string): () => Promise<void> {
    let running = true;
    const loop = (async () => {
        while (running) {
            try {
                const pods = await clients(nodeCluster).core.listNamespacedPod({ namespace });
                const existing = new Set(await nodeNames(target));
                // Each kubelet container is one Node: `--name` with the pod's name for $(NODE_NAME).
                const live = pods.items.filter((pod) => !pod.metadata!.deletionTimestamp);
                // A kubelet reports its pod Running and Ready: rolling updates wait for that before the next pod.
                for (const pod of live.filter((p) => p.status?.phase !== "Running")) {
                    await markRunning(nodeCluster, pod);
                }
                const kubelets = live.flatMap((pod) => pod.spec!.containers
                    .filter((c) => /^hollow-kubelet(-\d+)?$/.test(c.name)).map((c) => ({ pod, args: c.args! })));
                for (const { pod, args } of kubelets) {
                    const flag = (f: string) => args.find((a) => a.startsWith(`--${f}=`))?.slice(f.length + 3) ?? "";
                    const name = flag("name").replace("$(NODE_NAME)", pod.metadata!.name!);
                    if (existing.has(name)) {
                        continue;
                    }
                    const labels = Object.fromEntries(flag("node-labels").split(",").map((kv) => kv.split("=") as [string, string]));
                    const taints = flag("register-with-taints").split(",").filter(Boolean).map((t) => {
                        const [kv, effect] = t.split(":");
                        const [key, value] = kv.split("=");
                        return { key, value, effect };
                    });
                    // The stack's release is the image tag: tests name fake images 127.0.0.1:5000/kubemark:<release>.
                    const image = pod.spec!.containers.find((c) => c.name.startsWith("hollow-kubelet"))!.image!;
                    const release = /:(v\d+\.\d+\.\d+)[^:/]*$/.exec(image)?.[1] ?? "v0.0.0";
                    await registerAs(await podKubeconfig(nodeCluster, pod, name), name, labels, taints, release);
                }
            } catch {
                // The target may be down on purpose; try again.
            }
            await new Promise((r) => setTimeout(r, 500));
        }
    })();
    return async () => {
        running = false;
        await loop;
    };
}
