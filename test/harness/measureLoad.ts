// For measure's real-API tests: scheduler and workload controllers on a target, kubelets for the load's pods, the CLI.
import * as k8s from "@kubernetes/client-node";
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ControlPlane, stop, toolchainDir } from "./controlPlane";
import { clients } from "./fakeKubelets";
import { BUILD } from "./paths";

/**
 * Starts what a target needs to run the load's workloads on its Nodes: kube-scheduler and kube-controller-manager's
 * deployment, replicaset, statefulset, job, daemonset, endpointslice and serviceaccount controllers (the harness's
 * target runs only CSR, namespace and garbage collection).
 */
export function startWorkloadControllers(target: ControlPlane, dir: string): () => Promise<void> {
    const bin = path.join(toolchainDir(), "bin");
    const run = (name: string, args: string[]) => {
        const log = fs.openSync(path.join(dir, `${name}.log`), "a");
        return spawn(path.join(bin, name), args, { stdio: ["ignore", log, log] });
    };
    const common = [`--kubeconfig=${target.kubeconfigFile}`, "--leader-elect=false", "--secure-port=0"];
    const procs: ChildProcess[] = [
        run("kube-scheduler", common),
        // serviceaccount: pods are admitted only once their namespace's default ServiceAccount exists.
        run("kube-controller-manager", [...common, "--controllers=deployment,replicaset,serviceaccount,statefulset,job,daemonset,endpointslice"]),
    ];
    return async () => {
        await Promise.all(procs.map(stop));
    };
}

/**
 * What a scheduler needs of a Node that the test's target does not give: room for pods (a kubelet reports it), and no
 * not-ready taint (the API server adds it at registration; the node lifecycle controller, not run here, lifts it).
 */
export async function giveCapacity(target: ControlPlane, selector: string): Promise<void> {
    const { core } = clients(target);
    for (const listed of (await core.listNode({ labelSelector: selector })).items) {
        listed.spec = { ...listed.spec, taints: (listed.spec?.taints ?? []).filter((t) => t.key !== "node.kubernetes.io/not-ready") };
        const node = await core.replaceNode({ name: listed.metadata!.name!, body: listed });
        const room = { cpu: "4", memory: "8Gi", pods: "110" };
        node.status = { ...node.status, capacity: room, allocatable: room };
        await core.replaceNodeStatus({ name: node.metadata!.name!, body: node });
    }
}

/**
 * Plays the kubelets of the load's pods (the hollow Nodes here have none): a pod bound to a Node is reported Running
 * with its container started, as a hollow kubelet does; a pod marked for deletion is confirmed gone; every 200 ms.
 */
export function playLoadKubelets(target: ControlPlane, namespacePrefix: string): () => Promise<void> {
    let running = true;
    const { core } = clients(target);
    const loop = (async () => {
        while (running) {
            try {
                const pods = (await core.listPodForAllNamespaces({})).items.filter((p) => p.metadata!.namespace!.startsWith(namespacePrefix));
                for (const pod of pods) {
                    const ref = { name: pod.metadata!.name!, namespace: pod.metadata!.namespace! };
                    if (pod.metadata!.deletionTimestamp) {
                        await core.deleteNamespacedPod({ ...ref, gracePeriodSeconds: 0 }).catch(() => undefined);
                    } else if (pod.spec!.nodeName && pod.status?.phase !== "Running") {
                        const now = new Date();
                        const started: k8s.V1ContainerStatus[] = pod.spec!.containers.map((c) => ({
                            name: c.name, image: c.image!, imageID: "", ready: true, restartCount: 0, state: { running: { startedAt: now } },
                        }));
                        pod.status = {
                            ...pod.status, phase: "Running", startTime: now, containerStatuses: started,
                            conditions: [...(pod.status?.conditions ?? []).filter((c) => c.type === "PodScheduled"),
                                ...["Initialized", "ContainersReady", "Ready"].map((type) => ({ type, status: "True", lastTransitionTime: now }))],
                        };
                        await core.replaceNamespacedPodStatus({ ...ref, body: pod }).catch(() => undefined);
                    }
                }
            } catch {
                // The API server may be busy; look again.
            }
            await new Promise((r) => setTimeout(r, 200));
        }
    })();
    return async () => {
        running = false;
        await loop;
    };
}

/** How long a played hollow kubelet takes from its pod's creation to its first heartbeat. */
const STARTUP_MS = 3000;

/**
 * Plays the hollow kubelets' heartbeats: while a hollow pod is Running, its Node's Lease is renewed and its Ready
 * condition kept True every second; a killed pod's Node goes silent, as a real one does. Its Lease must exist.
 */
export function playHeartbeats(nodeCluster: ControlPlane, target: ControlPlane, namespace: string): () => Promise<void> {
    let running = true;
    const node = clients(nodeCluster).core;
    const { core, coordination } = clients(target);
    const loop = (async () => {
        while (running) {
            try {
                // A real hollow kubelet takes seconds to start: a replacement the churn deletes at once never beats.
                const started = Date.now() - STARTUP_MS;
                const pods = (await node.listNamespacedPod({ namespace })).items.filter((p) => !p.metadata!.deletionTimestamp
                    && p.status?.phase === "Running" && new Date(p.metadata!.creationTimestamp!).getTime() <= started);
                for (const name of pods.map((p) => p.metadata!.name!)) {
                    const lease = await coordination.readNamespacedLease({ name, namespace: "kube-node-lease" });
                    lease.spec = { ...lease.spec, renewTime: new k8s.V1MicroTime(), leaseDurationSeconds: 40 };
                    await coordination.replaceNamespacedLease({ name, namespace: "kube-node-lease", body: lease });
                    const n = await core.readNode({ name });
                    const ready = n.status?.conditions?.find((c) => c.type === "Ready");
                    if (ready?.status !== "True") {
                        const now = new Date();
                        n.status!.conditions = [...(n.status?.conditions ?? []).filter((c) => c.type !== "Ready"),
                            { type: "Ready", status: "True", reason: "KubeletReady", message: "test", lastHeartbeatTime: now, lastTransitionTime: now }];
                        await core.replaceNodeStatus({ name, body: n });
                    }
                }
            } catch {
                // A Node or Lease replaced meanwhile: the next round takes it.
            }
            await new Promise((r) => setTimeout(r, 1000));
        }
    })();
    return async () => {
        running = false;
        await loop;
    };
}

/**
 * The target's node lifecycle and taint eviction controllers, with a short grace period so that a test sees a silent
 * Node marked NotReady within seconds instead of v1.31's 40 s.
 */
export function startNodeLifecycle(target: ControlPlane, dir: string, graceSeconds: number): () => Promise<void> {
    const log = fs.openSync(path.join(dir, "node-lifecycle.log"), "a");
    const p = spawn(path.join(toolchainDir(), "bin", "kube-controller-manager"), [`--kubeconfig=${target.kubeconfigFile}`, "--leader-elect=false",
        "--secure-port=0", "--controllers=node-lifecycle-controller,taint-eviction-controller",
        `--node-monitor-grace-period=${graceSeconds}s`, "--node-monitor-period=1s"], { stdio: ["ignore", log, log] });
    return () => stop(p);
}

export interface MeasureRun {
    readonly done: Promise<{ code: number; out: string }>;
    output(): string;
    exited(): boolean;
    signal(sig: NodeJS.Signals): void;
}

/** Runs `node build/measure/cli.js` in the project copy, with the toolchain's Pulumi CLI and the copy's backend. */
export function startMeasure(project: string, args: string[]): MeasureRun {
    const bin = path.join(toolchainDir(), "bin");
    const child = spawn(process.execPath, [path.join(BUILD, "measure", "cli.js"), ...args], {
        cwd: project,
        env: {
            ...process.env, PATH: `${bin}:${process.env.PATH}`, PULUMI_HOME: path.join(toolchainDir(), "pulumi-home"),
            PULUMI_SKIP_UPDATE_CHECK: "true", PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            PULUMI_BACKEND_URL: `file://${path.join(project, ".state")}`, PULUMI_CONFIG_PASSPHRASE: "kubemark-test",
        },
        stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => { out += d; });
    child.stderr.on("data", (d) => { out += d; });
    let exited = false;
    const done = new Promise<{ code: number; out: string }>((resolve) => {
        child.on("close", (code, signal) => {
            exited = true;
            resolve({ code: code ?? (signal === "SIGKILL" ? 137 : 128), out });
        });
    });
    return { done, output: () => out, exited: () => exited, signal: (sig) => child.kill(sig) };
}

export const measure = (project: string, args: string[]) => startMeasure(project, args).done;

export function tempDir(name: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`));
}

/** Waits until `what` shows in the run's output, or fails after `ms`. */
export async function waitForOutput(run: MeasureRun, what: RegExp, ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (!what.test(run.output())) {
        if (Date.now() > until || run.exited()) {
            throw new Error(`${what} not printed ${run.exited() ? "before the run ended" : `within ${ms / 1000}s`}:\n${run.output()}`);
        }
        await new Promise((r) => setTimeout(r, 200));
    }
}

/** CL2's load in miniature for the real-API tests: 10 pods per Node in groups of 4, 2 and 1, a burst of 60. */
export function cl2SmallLoad(stack: string): string[] {
    return [
        "--stack", stack, "--pods-per-node", "10", "--big-group-size", "4", "--medium-group-size", "2", "--small-group-size", "1",
        "--pods-per-second", "20", "--hold-seconds", "2", "--throughput-pods", "60", "--metrics-every-seconds", "2",
        "--phase-timeout-seconds", "120",
    ];
}
