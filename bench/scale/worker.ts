// Child process running one provider call with the real client, so its peak RSS is the provider's alone.
import * as fs from "node:fs";
import { kubernetesClusterApi } from "../../components/kube/clusterApi";
import { realClock } from "../../components/kube/async";
import { sweepStaleNodes, waitForReady } from "../../components/reaper/sync";
import { CREDENTIALS_PROVIDER_VERSION, HollowCredentialsOutputs, HollowCredentialsProvider } from "../../components/credentials/provider";
import { HollowNodeSyncInputs, HollowNodeSyncProvider, NodeReaperProvider, PROVIDER_VERSION } from "../../components/reaper/provider";
import { STACK_LABEL_KEY } from "../../components/config/settings";
import { POD_NAMESPACE, POD_SELECTOR, SELECTOR } from "./population";

export type Task = "idle" | "reap" | "diff" | "sweep" | "readyOnce" | "readyWait" | "issue";
export interface TaskInput { task: Task; kubeconfig: string; replicas: number; readyTimeoutSeconds?: number }
export interface TaskOutput { startMs: number; endMs: number; vmHwmKb: number; result: unknown; error?: string }

// Provider logs go to stderr: stdout is not read, and the parent shows stderr only on failure.
const log = (m: string) => process.stderr.write(`[provider] ${m}\n`);

function syncInputs(kubeconfig: string, replicas: number): HollowNodeSyncInputs {
    return {
        providerVersion: PROVIDER_VERSION, targetKubeconfig: kubeconfig, nodeKubeconfig: kubeconfig,
        selector: SELECTOR, selectorKey: STACK_LABEL_KEY, namespace: POD_NAMESPACE, podSelector: POD_SELECTOR,
        replicas, nodesPerPod: 1, readyTimeoutSeconds: 60, sweepTimeoutSeconds: 60, workloadFingerprint: "bench",
    };
}

/** What the sweep and the readiness wait are asked, one hollow node per pod. */
const request = (replicas: number) => ({
    selector: SELECTOR, selectorKey: STACK_LABEL_KEY, namespace: POD_NAMESPACE, podSelector: POD_SELECTOR, replicas, nodesPerPod: 1,
});

async function run(input: TaskInput): Promise<unknown> {
    const { kubeconfig, replicas } = input;
    const api = () => kubernetesClusterApi(kubeconfig, 15000);
    switch (input.task) {
        case "idle":
            // The baseline: the client library loaded, no call made.
            await import("@kubernetes/client-node");
            return null;
        case "reap":
            // As `pulumi destroy` runs it: the namespace holds no pods, so it goes straight to the Nodes.
            return new NodeReaperProvider(undefined, undefined, log).delete("bench", {
                ...syncInputs(kubeconfig, replicas), namespace: "kubemark-bench-empty", timeoutSeconds: 600,
            });
        case "diff": {
            const news = syncInputs(kubeconfig, replicas);
            // Same inputs as stored: only the drift check decides, as on a preview with nothing edited.
            return new HollowNodeSyncProvider().diff("bench", { ...news, readyNodes: replicas, registeredNodes: replicas, sweptNodes: 0 }, news);
        }
        case "sweep": {
            const swept = await sweepStaleNodes(api(), api(), { ...request(replicas), deadline: Date.now() + 120_000 }, realClock, log);
            return { swept: swept.length };
        }
        case "readyOnce":
            // A deadline already past: exactly one count, as a preview-time check would be.
            return waitForReady(api(), api(), { ...request(replicas), deadline: Date.now(), readyDeadline: Date.now() }, realClock, log);
        case "readyWait": {
            const deadline = Date.now() + (input.readyTimeoutSeconds ?? 60) * 1000;
            return waitForReady(api(), api(), { ...request(replicas), deadline, readyDeadline: deadline }, realClock, log);
        }
        case "issue": {
            // As the first up of an N-node StatefulSet stack: a key, CSR, approval and signed certificate per node.
            const provider = new HollowCredentialsProvider(undefined, undefined, log);
            const names = Array.from({ length: replicas }, (_, i) => `hollow-node-bench-${i}`);
            const outs = (await provider.create({
                providerVersion: CREDENTIALS_PROVIDER_VERSION, targetKubeconfig: kubeconfig, stackLabelKey: STACK_LABEL_KEY, stackLabelValue: "kubemark.bench",
                nodeNames: names, lifetimeSeconds: 7 * 86400, identityNamespace: "", serviceAccounts: [], timeoutSeconds: 900,
            })).outs as HollowCredentialsOutputs;
            const issued = Object.keys(outs.certificates).length;
            const started = Date.now();
            await provider.delete("bench", outs);
            return { issued, csrDeleteSeconds: (Date.now() - started) / 1000 };
        }
    }
}

function vmHwmKb(): number {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync("/proc/self/status", "utf8"));
    return m ? Number(m[1]) : -1;
}

async function main(): Promise<void> {
    const input = JSON.parse(fs.readFileSync(process.argv[2], "utf8")) as TaskInput;
    const startMs = Date.now();
    let out: TaskOutput;
    try {
        const result = await run(input);
        out = { startMs, endMs: Date.now(), vmHwmKb: vmHwmKb(), result };
    } catch (e) {
        out = { startMs, endMs: Date.now(), vmHwmKb: vmHwmKb(), result: null, error: (e as Error).message };
    }
    fs.writeFileSync(process.argv[3], JSON.stringify(out));
}

if (require.main === module) {
    void main();
}
