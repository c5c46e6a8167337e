// Node pools under pulumi.runtime.setMocks: each pool and zone its own workloads, flags, reaper; guard and sync know
// them all.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { reveal, runStack } from "../harness/mockStack";

describe("program with pools", () => {
    it("with two pools: a workload pair per pool and zone, each with its pool's labels, capacity and taints; guard and sync know them all", async () => {
        const pools = [{ name: "general", replicas: 5, capacity: { cpu: "8", memory: "32Gi" }, zones: ["zone-a", "zone-b"] },
            { name: "gpu", replicas: 2, capacity: { cpu: "64" }, extendedResources: ["example.com/gpu=8"], taints: ["example.com/gpu=true:NoSchedule"] }];
        const run = await runStack("dev", { "kubemark:pools": JSON.stringify(pools), "kubemark:replicas": "", "kubemark:podCidrRange": "10.64.0.0/16" });
        const sets = run.resources.filter((r) => r.type === "kubernetes:apps/v1:StatefulSet");
        assert.deepEqual(sets.map((w) => [w.name, w.inputs.metadata.name, w.inputs.spec.replicas]), [
            ["hollow-nodes-general-zone-a-workload", "hollow-node-dev-general-zone-a", 3], ["hollow-nodes-general-zone-a-last", "hollow-node-dev-general-zone-a-last", 0],
            ["hollow-nodes-general-zone-b-workload", "hollow-node-dev-general-zone-b", 2], ["hollow-nodes-general-zone-b-last", "hollow-node-dev-general-zone-b-last", 0],
            ["hollow-nodes-gpu-workload", "hollow-node-dev-gpu", 2], ["hollow-nodes-gpu-last", "hollow-node-dev-gpu-last", 0],
        ]);
        const args = (i: number) => sets[i].inputs.spec.template.spec.containers[0].args as string[];
        assert.ok(args(2).includes("--node-labels=hollow-node=true,kubemark-pulumi/pool=general,kubemark-pulumi/stack=kubemark.dev,topology.kubernetes.io/zone=zone-b"), args(2).join(" "));
        assert.ok(args(2).includes("--node-capacity=cpu=8,memory=32Gi") && args(2).includes("--pod-cidr-lookup=always"), "up hands podCIDRs out");
        assert.ok(args(4).includes("--node-capacity=cpu=64") && args(4).includes("--extended-resources=example.com/gpu=8"));
        assert.ok(args(4).includes("--register-with-taints=example.com/gpu=true:NoSchedule"), args(4).join(" "));
        const guard = run.resources.find((r) => r.type === "pulumi-nodejs:dynamic/kubemark:OwnershipGuard")!;
        assert.deepEqual(reveal(guard.inputs.nodeGroups).map((g: { workloadName: string; replicas: number }) => [g.workloadName, g.replicas]),
            [["hollow-node-dev-general-zone-a", 3], ["hollow-node-dev-general-zone-b", 2], ["hollow-node-dev-gpu", 2]]);
        const sync = run.resources.find((r) => r.type === "pulumi-nodejs:dynamic/kubemark:HollowNodeSync")!;
        assert.deepEqual([reveal(sync.inputs.replicas), reveal(sync.inputs.parts).length, reveal(sync.inputs.podCidrRange), reveal(sync.inputs.podCidrMaskSize)],
            [7, 3, "10.64.0.0/16", 24]);
        const rollsOn = (r: typeof run) => r.resources.find((w) => w.name === "hollow-nodes-general-zone-a-workload")!.inputs.spec.template.metadata.annotations["kubemark-pulumi/credentials"];
        const alone = await runStack("dev", { "kubemark:pools": JSON.stringify(pools.slice(0, 1)), "kubemark:replicas": "" });
        assert.equal(rollsOn(run), rollsOn(alone), "removing the GPU pool (the earliest certificates) does not roll the general pool");
        assert.match(rollsOn(run), /^2030-/);
        assert.ok(!alone.resources.filter((r) => r.type === "kubernetes:apps/v1:StatefulSet").some((r) => JSON.stringify(r.inputs.spec).includes("--pod-cidr-lookup")),
            "without podCidrRange: the patch's default");
        // A part leaving the config: the engine deletes its workloads, then its reaper, which removes its Nodes.
        const reapers = run.resources.filter((r) => r.type === "pulumi-nodejs:dynamic/kubemark:NodeReaper");
        assert.deepEqual(reapers.map((r) => [r.name, reveal(r.inputs.selector), reveal(r.inputs.podSelector)]), [
            ["hollow-nodes-reaper", "kubemark-pulumi/stack=kubemark.dev", "app.kubernetes.io/name=hollow-node,kubemark-pulumi/stack=kubemark.dev"],
            ...[["general-zone-a", "general,topology.kubernetes.io/zone=zone-a"], ["general-zone-b", "general,topology.kubernetes.io/zone=zone-b"], ["gpu", "gpu"]]
                .map(([part, pool]) => [`hollow-nodes-${part}-part-reaper`, `kubemark-pulumi/stack=kubemark.dev,kubemark-pulumi/pool=${pool}`,
                    `app.kubernetes.io/name=hollow-node,kubemark-pulumi/stack=kubemark.dev,app.kubernetes.io/instance in (hollow-node-dev-${part},hollow-node-dev-${part}-last)`]),
        ]);
        const urnOf = (name: string) => run.resources.find((r) => r.name === name)!.urn;
        for (const [i, w] of sets.entries()) {
            const part = ["general-zone-a", "general-zone-b", "gpu"][Math.floor(i / 2)];
            assert.ok(w.deps.includes(urnOf(`hollow-nodes-${part}-part-reaper`)) && w.deps.includes(urnOf("hollow-nodes-reaper")), `${w.name} depends on its reapers`);
        }
        assert.deepEqual(reveal(sync.inputs.parts).map((p: { workloadName: string }) => p.workloadName),
            ["hollow-node-dev-general-zone-a", "hollow-node-dev-general-zone-b", "hollow-node-dev-gpu"]);
        assert.deepEqual((run.outputs.pools as { name: string; nodeSelector: string }[]).map((p) => p.nodeSelector),
            ["kubemark-pulumi/stack=kubemark.dev,kubemark-pulumi/pool=general", "kubemark-pulumi/stack=kubemark.dev,kubemark-pulumi/pool=gpu"]);
    });
});
