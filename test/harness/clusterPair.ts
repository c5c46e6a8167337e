// Two real control planes (a node cluster with controllers, and a target) plus a copy of the program, for a test file.
import * as fs from "node:fs";
import { ControlPlane } from "./controlPlane";
import { copyProject } from "./pulumiCli";

export interface ClusterPair {
    nodeCluster: ControlPlane;
    target: ControlPlane;
    /** A throw-away copy of the program with its own state backend. */
    project: string;
}

/** The node cluster of the toolchain's own release, and a target of it or of `targetRelease`. */
export async function startPair(targetRelease?: string): Promise<ClusterPair> {
    const [node, target] = await Promise.allSettled([ControlPlane.start("node", "workloads"), ControlPlane.start("target", "target", targetRelease)]);
    if (node.status === "rejected" || target.status === "rejected") {
        // The one that started would outlive the test file and keep its process from exiting.
        await stopPair({ nodeCluster: node.status === "fulfilled" ? node.value : undefined, target: target.status === "fulfilled" ? target.value : undefined });
        throw node.status === "rejected" ? node.reason : (target as PromiseRejectedResult).reason;
    }
    return { nodeCluster: node.value, target: target.value, project: copyProject() };
}

/** Stops whatever of the pair started; safe after a failed start. */
export async function stopPair(pair: Partial<ClusterPair>): Promise<void> {
    await Promise.all([pair.nodeCluster?.stop(), pair.target?.stop()]);
    if (pair.project) {
        fs.rmSync(pair.project, { recursive: true, force: true });
    }
}
