// For measure's real-API tests: stacks up on a cluster pair, the churn's policies and dry-run pods, Node lifecycle.
import * as k8s from "@kubernetes/client-node";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { probePod } from "../../measure/scenarios/churn/policy";
import type { ControlPlane } from "./controlPlane";
import { clients, fakeKubelets as playKubelets } from "./fakeKubelets";
import { playHeartbeats, startNodeLifecycle } from "./measureLoad";
import { pulumi } from "./pulumiCli";

export const MEASURE_SELECTOR = "kubemark-pulumi/measure=true";
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function admission(cp: ControlPlane) {
    const kc = new k8s.KubeConfig();
    kc.loadFromString(cp.kubeconfig);
    return kc.makeApiClient(k8s.AdmissionregistrationV1Api);
}

/** The policies and bindings a churn left in the node cluster, by name. */
export async function policiesLeft(cp: ControlPlane): Promise<string[]> {
    const api = admission(cp);
    const policies = (await api.listValidatingAdmissionPolicy({ labelSelector: MEASURE_SELECTOR })).items.map(
        (p) => `policy ${p.metadata!.name}`,
    );
    const bindings = (await api.listValidatingAdmissionPolicyBinding({ labelSelector: MEASURE_SELECTOR })).items.map(
        (b) => `binding ${b.metadata!.name}`,
    );
    return [...policies, ...bindings];
}

/** What the API server answers a dry-run pod of `owner`: "admitted", or the refusal's message. */
export async function dryRun(
    cp: ControlPlane,
    namespace: string,
    owner: { apiVersion: string; kind: string; name: string; uid: string },
): Promise<string> {
    try {
        await clients(cp).core.createNamespacedPod({
            namespace,
            body: probePod(namespace, owner) as k8s.V1Pod,
            dryRun: "All",
        });
        return "admitted";
    } catch (e) {
        return String((e as { body?: unknown }).body ?? (e as Error).message);
    }
}

export async function until<T>(what: string, ms: number, look: () => Promise<T | undefined>): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
        const found = await look();
        if (found !== undefined) {
            return found;
        }
        if (Date.now() > end) {
            throw new Error(`${what}: not within ${ms / 1000}s`);
        }
        await sleep(200);
    }
}

/** A cluster pair with the project's copy, as measure's real tests use it; `stops` runs in reverse at the end. */
export interface MeasureLab {
    readonly nodeCluster: ControlPlane;
    readonly target: ControlPlane;
    readonly project: string;
    readonly logs: string;
    readonly stops: (() => Promise<void>)[];
}

/** The namespaces a measure run made in the target that are still there, after up to 60 s for them to go. */
export async function measureNamespacesGone(target: ControlPlane): Promise<string[]> {
    const namespaces = async () =>
        (await clients(target).core.listNamespace({ labelSelector: MEASURE_SELECTOR })).items.map(
            (n) => n.metadata!.name!,
        );
    for (let i = 0; i < 120 && (await namespaces()).length > 0; i++) {
        await sleep(500);
    }
    return namespaces();
}

/** Brings `stack` up with the real CLI, its hollow kubelets played from before the up until the lab stops. */
export async function upStack(lab: MeasureLab, stack: string, config: [string, string][]): Promise<void> {
    const { nodeCluster, target, project, stops } = lab;
    assert.equal((await pulumi(project, stack, ["stack", "init"])).code, 0);
    for (const [k, v] of [
        ["kubernetesVersion", "v1.31.0"],
        ["image", "127.0.0.1:5000/kubemark:v1.31.0"],
        ["nodeKubeconfig", nodeCluster.kubeconfigFile],
        ["targetKubeconfig", target.kubeconfigFile],
        ["readyTimeoutSeconds", "120"],
        ["reaperTimeoutSeconds", "30"],
        ...config,
    ]) {
        assert.equal((await pulumi(project, stack, ["config", "set", k, v])).code, 0, `config set ${k}`);
    }
    stops.push(playKubelets(nodeCluster, target, `kubemark-${stack}`));
    const run = await pulumi(project, stack, ["up", "--yes", "--skip-preview"]);
    assert.equal(run.code, 0, run.out);
}

/** The stack's hollow pods in the node cluster, terminating ones too. */
export const hollowPodsOf = async (nodeCluster: ControlPlane, stack: string) =>
    (await clients(nodeCluster).core.listNamespacedPod({ namespace: `kubemark-${stack}` })).items;

/** Heartbeats for the stacks' hollow Nodes, and the target's node lifecycle controller with a short grace. */
export async function withNodeLifecycle<T>(
    lab: MeasureLab,
    stacks: string[],
    graceSeconds: number,
    body: () => Promise<T>,
): Promise<T> {
    const { nodeCluster, target, logs } = lab;
    const stopBeats = stacks.map((s) => playHeartbeats(nodeCluster, target, `kubemark-${s}`));
    // Fresh Leases first: the node lifecycle controller would find the registration's heartbeats long stale.
    await sleep(4000);
    const stopLifecycle = startNodeLifecycle(target, logs, graceSeconds);
    try {
        return await body();
    } catch (e) {
        console.log(
            `node lifecycle controller's log:\n${fs.readFileSync(path.join(logs, "node-lifecycle.log"), "utf8").split("\n").slice(-40).join("\n")}`,
        );
        throw e;
    } finally {
        await stopLifecycle();
        for (const stop of stopBeats) {
            await stop();
        }
    }
}
