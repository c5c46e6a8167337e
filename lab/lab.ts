// The lab as tests and benches see it: its scripts, its clusters' clients, and hollow pods' measured usage.
import * as k8s from "@kubernetes/client-node";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { toolchainDir } from "../test/harness/controlPlane";
import { ROOT } from "../test/harness/paths";
import { LAB_CONSTANTS } from "./constants";

export const LAB = process.env.KUBEMARK_LAB_DIR ?? path.join(os.homedir(), ".cache", "kubemark-lab");
/** In the lab's network namespace, on its loopback: reached by its dockerd and containerd, and by the tests inside. */
export const REGISTRY = LAB_CONSTANTS.REGISTRY;
export const BUSYBOX_IMAGE = LAB_CONSTANTS.BUSYBOX_IMAGE;
export const WORKER = LAB_CONSTANTS.NODE_NAME;
/** The lab worker's containerd socket (lab/lib.sh CTRD_SOCK). */
export const CTRD_SOCK = path.join(LAB, "run", "containerd.sock");
/** For image builds: the lab's own docker daemon, and Debian's docker client, whose legacy builder needs no buildx. */
export const DOCKER_ENV = { DOCKER_HOST: `unix://${LAB}/run/docker.sock`, DOCKER_BUILDKIT: "0", PATH: `/usr/bin:${process.env.PATH}` };

/** Why the lab cannot run here, or undefined. */
export function labMissing(): string | undefined {
    if (process.getuid?.() !== 0) {
        return "the lab needs root (kubelet, containerd, its network namespace)";
    }
    const bin = path.join(toolchainDir(), "bin");
    const missing = ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kubectl", "pulumi", "pulumi-resource-kubernetes"]
        .map((b) => path.join(bin, b)).filter((f) => !fs.existsSync(f));
    return missing.length > 0 ? `missing ${missing.join(", ")}: run npm run toolchain` : undefined;
}

export interface ScriptRun { code: number; out: string; seconds: number }

/** Runs lab/<name>.sh, echoing its progress lines. */
export function lab(name: "up" | "down" | "status", ...args: string[]): Promise<ScriptRun> {
    const started = Date.now();
    return new Promise((resolve) => {
        const child = spawn("bash", [path.join(ROOT, "lab", `${name}.sh`), ...args], { stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        const take = (d: Buffer) => {
            out += d;
            process.stderr.write(d);
        };
        child.stdout.on("data", take);
        child.stderr.on("data", take);
        child.on("close", (code) => resolve({ code: code ?? 1, out, seconds: (Date.now() - started) / 1000 }));
    });
}

export function kubeconfigFile(cluster: "node" | "target"): string {
    return path.join(LAB, `${cluster}.kubeconfig`);
}

export function clientsOf(cluster: "node" | "target") {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfigFile(cluster));
    return {
        core: kc.makeApiClient(k8s.CoreV1Api), apps: kc.makeApiClient(k8s.AppsV1Api), coordination: kc.makeApiClient(k8s.CoordinationV1Api),
        certificates: kc.makeApiClient(k8s.CertificatesV1Api), batch: kc.makeApiClient(k8s.BatchV1Api),
        discovery: kc.makeApiClient(k8s.DiscoveryV1Api),
    };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 1000): Promise<number> {
    const started = Date.now();
    while (Date.now() - started < timeoutMs) {
        if (await check().catch(() => false)) {
            return (Date.now() - started) / 1000;
        }
        await sleep(everyMs);
    }
    throw new Error(`${what}: not within ${timeoutMs / 1000}s`);
}

export interface ContainerUsage { readonly memoryMiB: number; readonly rssMiB: number; readonly millicores: number }
export type PodUsage = Record<string, ContainerUsage>;

interface Summary {
    pods?: { podRef: { name: string; namespace: string };
        containers?: { name: string; cpu?: { usageNanoCores?: number }; memory?: { workingSetBytes?: number; rssBytes?: number } }[] }[];
}

/** Per-container usage of a namespace's pods, from the worker kubelet's summary API (its cgroup readings). */
export async function podUsage(namespace: string): Promise<Map<string, PodUsage>> {
    const raw = await clientsOf("node").core.connectGetNodeProxyWithPath({ name: WORKER, path: "stats/summary" });
    const summary = (typeof raw === "string" ? JSON.parse(raw) : raw) as Summary;
    const usage = new Map<string, PodUsage>();
    for (const pod of summary.pods ?? []) {
        if (pod.podRef.namespace !== namespace) {
            continue;
        }
        usage.set(pod.podRef.name, Object.fromEntries((pod.containers ?? []).map((c) => [c.name, {
            memoryMiB: (c.memory?.workingSetBytes ?? 0) / 2 ** 20,
            rssMiB: (c.memory?.rssBytes ?? 0) / 2 ** 20,
            millicores: (c.cpu?.usageNanoCores ?? 0) / 1e6,
        }])));
    }
    return usage;
}

/** Mean, min and max of one container's figure over pods. */
export function spread(values: number[]): { mean: number; min: number; max: number } {
    return {
        mean: values.reduce((a, b) => a + b, 0) / Math.max(1, values.length),
        min: Math.min(...values),
        max: Math.max(...values),
    };
}

/**
 * Log lines in which a hollow kubelet or proxy was refused (403) or asked for a resource the target does not serve:
 * what a release's kubelet or proxy needs and its identity or target lacks.
 */
export const REFUSAL = /\bis forbidden\b|\bForbidden\b|the server could not find the requested resource/;
/**
 * The Node authorizer knows a kubelet's objects by its pods' binding to the Node ("no relationship found" otherwise),
 * and its graph trails the API by moments: a kubelet's status manager asking for a pod already deleted, or its
 * reflector for a just-bound pod's ConfigMap (kube-root-ca.crt, seen on v1.29) before the binding reached the graph.
 * Real kubelets meet both and retry; nothing the kubelet needs stays refused, so these are counted apart.
 */
export const NODE_GRAPH_RACE = /cannot (get|list|watch) resource \\?"(pods|configmaps)\\?" .*no relationship found between node '[^']+' and this object/;

/** `pod/container: line`, every container of every pod of the namespace; the Node authorizer's graph races apart. */
export async function hollowLogRefusals(namespace: string): Promise<{ lines: string[]; races: string[]; containers: number }> {
    const { core } = clientsOf("node");
    const lines: string[] = [];
    const races: string[] = [];
    let containers = 0;
    for (const pod of (await core.listNamespacedPod({ namespace })).items) {
        for (const c of pod.spec?.containers ?? []) {
            containers++;
            const log = await core.readNamespacedPodLog({ name: pod.metadata!.name!, namespace, container: c.name });
            for (const l of String(log).split("\n").filter((x) => REFUSAL.test(x))) {
                (NODE_GRAPH_RACE.test(l) ? races : lines).push(`${pod.metadata!.name}/${c.name}: ${l}`);
            }
        }
    }
    return { lines, races, containers };
}

/** The release the lab's target runs (lab/up.sh --target), as its state records it. */
export function labTargetVersion(): string | undefined {
    try {
        return fs.readFileSync(path.join(LAB, "target-version"), "utf8").trim();
    } catch {
        return undefined;
    }
}
