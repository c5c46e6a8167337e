// The ways to remove a stack's hollow Nodes and Leases that the bench compares, and a child-process runner.
import { execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { forEachLimited } from "../../components/kube/async";
import { toolchainDir } from "../../test/harness/controlPlane";
import { Kube } from "./kube";
import { SELECTOR } from "./population";
import type { TaskInput, TaskOutput } from "./worker";

/** Runs one provider call in a fresh Node.js process; resolves with what it reported. */
export function runWorker(input: TaskInput, onStart?: () => void): Promise<TaskOutput> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-worker-"));
    const inFile = path.join(dir, "in.json");
    const outFile = path.join(dir, "out.json");
    // The input holds the admin token: private file, removed right after.
    fs.writeFileSync(inFile, JSON.stringify(input), { mode: 0o600 });
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [path.join(__dirname, "worker.js"), inFile, outFile], { stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        child.stderr.on("data", (c: Buffer) => { stderr += c.toString(); });
        onStart?.();
        child.on("exit", (code) => {
            try {
                const out = JSON.parse(fs.readFileSync(outFile, "utf8")) as TaskOutput;
                if (out.error) {
                    reject(new Error(`${input.task}: ${out.error}\n${stderr.slice(-2000)}`));
                } else {
                    resolve(out);
                }
            } catch {
                reject(new Error(`${input.task} worker exited ${code} without a result:\n${stderr.slice(-2000)}`));
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });
    });
}

export function kubectl(kubeconfigFile: string, args: string[]): Promise<string> {
    const bin = path.join(toolchainDir(), "bin", "kubectl");
    return new Promise((resolve, reject) => {
        // Fresh discovery cache per call, as a first kubectl run against a new cluster would have.
        execFile(bin, [`--kubeconfig=${kubeconfigFile}`, ...args], { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
            if (err) {
                reject(new Error(`kubectl ${args.slice(0, 4).join(" ")} ...: ${err.message} ${stderr.slice(0, 500)}`));
            } else {
                resolve(stdout);
            }
        });
    });
}

/**
 * kubectl as an operator would script it. Leases have no labels, so their names come from the Nodes
 * listed first (`kubectl get nodes -l ... -o name`), passed all at once to `kubectl -n kube-node-lease delete leases`.
 * Objects named on the command line go through kubectl's client-side rate limit (5 requests/s after a burst
 * of 10, seen with -v=6: "Waited for ... due to client-side throttling"); a selector's do not. So the Leases
 * dominate, and the Nodes' own time is returned apart: the guide's one-liner deletes only those.
 */
export async function kubectlDelete(kubeconfigFile: string, wait: boolean): Promise<{ nodesSeconds: number }> {
    const names = (await kubectl(kubeconfigFile, ["get", "nodes", "-l", SELECTOR, "-o", "name"]))
        .split("\n").filter(Boolean).map((n) => n.replace(/^node\//, ""));
    const waitFlag = `--wait=${wait}`;
    const started = Date.now();
    await kubectl(kubeconfigFile, ["delete", "nodes", "-l", SELECTOR, waitFlag]);
    const nodesSeconds = (Date.now() - started) / 1000;
    if (names.length > 0) {
        await kubectl(kubeconfigFile, ["-n", "kube-node-lease", "delete", "leases", waitFlag, ...names]);
    }
    return { nodesSeconds };
}

/**
 * The guide's one-liner for the Nodes (`kubectl delete nodes -l <selector> --wait=false`, by selector, so not
 * rate-limited), then the Leases it leaves removed 64 at a time by the bench, to reset the population.
 */
export async function kubectlNodesThenRawLeases(kubeconfigFile: string, kube: Kube, names: readonly string[]): Promise<{ nodesSeconds: number }> {
    const started = Date.now();
    await kubectl(kubeconfigFile, ["delete", "nodes", "-l", SELECTOR, "--wait=false"]);
    const nodesSeconds = (Date.now() - started) / 1000;
    const failures = await forEachLimited(names, 64, async (name) => {
        const r = await kube.request("DELETE", `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${name}`);
        if (r.status !== 200 && r.status !== 404) {
            throw new Error(`delete Lease ${name}: HTTP ${r.status}`);
        }
    });
    if (failures.length > 0) {
        throw new Error(`${failures.length} Lease delete(s) failed: ${(failures[0] as Error).message}`);
    }
    return { nodesSeconds };
}

/**
 * Per-object deletes at the API server's pace: 64 in flight over keep-alive connections, names known, no preconditions.
 */
export async function rawConcurrent(kube: Kube, names: readonly string[]): Promise<void> {
    const failures = await forEachLimited(names, 64, async (name) => {
        for (const path of [`/api/v1/nodes/${name}`, `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${name}`]) {
            const r = await kube.request("DELETE", path);
            if (r.status !== 200 && r.status !== 404) {
                throw new Error(`DELETE ${path}: HTTP ${r.status}`);
            }
        }
    });
    if (failures.length > 0) {
        throw new Error(`raw: ${failures.length} delete(s) failed: ${(failures[0] as Error).message}`);
    }
}

/** One delete-collection for the Nodes while the Leases go 64 at a time, names already known. */
export async function rawDelete(kube: Kube, names: readonly string[]): Promise<void> {
    const nodes = kube.must("DELETE", `/api/v1/nodes?labelSelector=${encodeURIComponent(SELECTOR)}`);
    const leases = forEachLimited(names, 64, async (name) => {
        const r = await kube.request("DELETE", `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${name}`);
        if (r.status !== 200 && r.status !== 404) {
            throw new Error(`delete Lease ${name}: HTTP ${r.status}`);
        }
    });
    const [, failures] = await Promise.all([nodes, leases]);
    if (failures.length > 0) {
        throw new Error(`raw: ${failures.length} Lease delete(s) failed: ${(failures[0] as Error).message}`);
    }
}
