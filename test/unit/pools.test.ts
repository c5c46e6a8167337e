// Node pools: `pools` read with every problem named, the flat keys as the one-pool case, and pools to workloads.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseSettings } from "../../components/config/read";
import { prebuiltFleetWarning } from "../../components/config/pools";
import { ConfigError, RawConfig } from "../../components/config/readers";
import { DEFAULT_NODE_TAINT, defaultProxyResources } from "../../components/config/defaults";
import { PoolSettings } from "../../components/config/settings";
import { capacityFlagValue, poolParts, zoneShare } from "../../components/hollow/pools";
import { expectedPartsPodNodes, layoutProgress } from "../../components/hollow/names";
import { poolLabelsWanted } from "../../components/reaper/sync";
import { HollowPodOptions, kubeletFlags } from "../../components/hollow/podspec";
import { NODE_CAPACITY_FLAG, NODE_CAPACITY_KEYS, POD_CIDR_LOOKUP_FLAG } from "../../components/image/fleetFlags";

const BASE = { "kubemark:kubernetesVersion": "v1.31.0", "kubemark:imageRegistry": "127.0.0.1:5000" };
const raw = (values: Record<string, string>, stack = "lab"): RawConfig => ({
    values: { ...BASE, ...values }, secretKeys: new Set(), project: "kubemark", stack, env: { HOME: "/h" },
});
const pools = (list: unknown, extra: Record<string, string> = {}) => raw({ "kubemark:pools": JSON.stringify(list), ...extra });
function problems(r: RawConfig): string[] {
    try {
        parseSettings(r);
    } catch (e) {
        assert.ok(e instanceof ConfigError);
        return [...e.problems];
    }
    return [];
}

const TWO_POOLS = [
    { name: "general", replicas: 6, nodesPerPod: 3, capacity: { cpu: "8", memory: "32Gi" }, zones: ["zone-a", "zone-b"], region: "region-1" },
    { name: "gpu", replicas: "2", capacity: { cpu: 64, memory: "512Gi", ephemeralStorage: "1Ti" }, extendedResources: ["example.com/gpu=8"],
        taints: ["example.com/gpu=true:NoSchedule"], labels: ["tier=gpu"], proxyMemory: "64Mi" },
];

describe("pools in config", () => {
    it("without pools: one pool, default, of the flat keys (the layout before pools)", () => {
        const s = parseSettings(raw({ "kubemark:replicas": "7", "kubemark:nodesPerPod": "2", "kubemark:nodeLabels": '["tier=a"]', "kubemark:maxPods": "30" }));
        assert.equal(s.pools.length, 1);
        const p = s.pools[0];
        assert.deepEqual([p.name, p.replicas, p.nodesPerPod, p.maxPods, p.zones, p.region, p.capacity], ["default", 7, 2, 30, [], "", {}]);
        assert.deepEqual(p.nodeLabels, [["tier", "a"]]);
        assert.deepEqual(p.nodeTaints, [DEFAULT_NODE_TAINT]);
        assert.deepEqual(p.proxyResources, s.proxyResources);
        assert.equal(s.replicas, 7);
    });

    it("an empty list (Pulumi.yaml's default) is no pools", () => {
        assert.deepEqual(parseSettings(raw({ "kubemark:pools": "[]" })).pools.map((p) => p.name), ["default"]);
    });

    it("reads each pool, a left-out field falling back to its flat key", () => {
        const s = parseSettings(pools(TWO_POOLS, { "kubemark:maxPods": "50", "kubemark:kubeletCpu": "30m" }));
        assert.equal(s.replicas, 8, "the stack's hollow Nodes in all");
        const [general, gpu] = s.pools;
        assert.deepEqual([general.name, general.replicas, general.nodesPerPod, general.maxPods, general.zones, general.region],
            ["general", 6, 3, 50, ["zone-a", "zone-b"], "region-1"]);
        assert.deepEqual(general.capacity, { cpu: "8", memory: "32Gi" });
        assert.deepEqual(general.nodeTaints, [DEFAULT_NODE_TAINT]);
        assert.deepEqual(general.kubeletResources, { cpu: "30m", memory: "40Mi" });
        assert.deepEqual(general.proxyResources, defaultProxyResources(6), "proxy requests follow the pool's own replicas");
        assert.deepEqual([gpu.replicas, gpu.nodesPerPod, gpu.capacity], [2, 1, { cpu: "64", memory: "512Gi", ephemeralStorage: "1Ti" }]);
        assert.deepEqual(gpu.nodeTaints, [{ key: "example.com/gpu", value: "true", effect: "NoSchedule" }]);
        assert.deepEqual(gpu.extendedResources, [["example.com/gpu", "8"]]);
        assert.deepEqual(gpu.nodeLabels, [["tier", "gpu"]]);
        assert.deepEqual(gpu.proxyResources, { cpu: defaultProxyResources(2).cpu, memory: "64Mi" });
    });

    const refused: { what: string; list: unknown; extra?: Record<string, string>; stack?: string; want: RegExp[] }[] = [
        { what: "not a list", list: { name: "a" }, want: [/^kubemark:pools = \{"name":"a"\}: must be a list of 1 to 20 pools/] },
        { what: "replicas beside pools", list: [{ name: "a", replicas: 1 }], extra: { "kubemark:replicas": "3" },
            want: [/^kubemark:replicas and kubemark:pools are both set: with pools, each pool sets its own replicas/] },
        { what: "a missing name and replicas, a typo'd field", list: [{ replica: 2 }],
            want: [/^kubemark:pools\[0\]\.replica: unknown pool field; did you mean replicas\?/, /^kubemark:pools\[0\]\.name is required/,
                /^kubemark:pools\[0\]\.replicas is required/] },
        { what: "bad values, each named with its value and what is accepted", list: [{
            name: "GPU", replicas: -1, nodesPerPod: 51, capacity: { cpu: "8.5", memory: "lots", disk: "1" }, zones: ["1a", "zone-a", "zone-a"],
            taints: ["x:Sometimes"], labels: ["kubemark-pulumi/pool=x"], region: "",
        }], want: [
            /^kubemark:pools\[0\]\.name = "GPU": must be a DNS-1123 label of at most 30 characters starting with a letter/,
            /^kubemark:pools\[0\]\.replicas = -1: must be a whole number from 0 to 10000/,
            /^kubemark:pools\[0\]\.nodesPerPod = 51: must be a whole number from 1 to 50/,
            /^kubemark:pools\[0\]\.labels = \["kubemark-pulumi\/pool=x"\]: "kubemark-pulumi\/pool=x" kubemark-pulumi\/pool is set by this program/,
            /^kubemark:pools\[0\]\.taints = \["x:Sometimes"\]: "x:Sometimes" effect must be one of NoSchedule, PreferNoSchedule, NoExecute/,
            /^kubemark:pools\[0\]\.capacity = .*: cpu "8\.5" must be whole cores, 1 to 99999; memory "lots" must be a quantity such as 32Gi; disk is not a capacity field/,
            /^kubemark:pools\[0\]\.zones = \["1a","zone-a","zone-a"\]: "1a" must be a DNS-1123 label of at most 20 characters starting with a letter; "zone-a" is given twice/,
        ] },
        { what: "two pools of one name", list: [{ name: "a", replicas: 1 }, { name: "a", replicas: 2 }],
            want: [/^kubemark:pools: pool name a is given 2 times/] },
        { what: "a pool named last (the -last workload's suffix)", list: [{ name: "last", replicas: 1 }], want: [/^kubemark:pools\[0\]\.name = "last"/] },
        { what: "the default pool's zone and another pool sharing a workload name", list: [{ name: "default", replicas: 2, zones: ["gpu"] }, { name: "gpu", replicas: 1 }],
            want: [/^kubemark:pools: pools default and gpu would both run workload hollow-node-lab-gpu: rename a pool or a zone/] },
        { what: "a workload name over the StatefulSet bound", list: [{ name: "general-purpose-pool", replicas: 1, zones: ["europe-west4-b"] }], stack: "a-long-stack-name",
            want: [/^kubemark:pools\[0\] \(general-purpose-pool, zones europe-west4-b\): its workload hollow-node-a-long-stack-name-general-purpose-pool-europe-west4-b would be 65 characters, over 47/] },
        { what: "a capacity with an image built without the fleet patches", list: [{ name: "a", replicas: 1, capacity: { cpu: 8 } }],
            extra: { "kubemark:patchFleet": "false" }, want: [/^kubemark:pools: pool a sets a capacity, which the image needs the fleet patches for, but kubemark:patchFleet is false/] },
        { what: "podCidrRange with an image built without the fleet patches", list: [{ name: "a", replicas: 1 }],
            extra: { "kubemark:patchFleet": "false", "kubemark:podCidrRange": "10.64.0.0/12" },
            want: [/^kubemark:podCidrRange = 10\.64\.0\.0\/12: gives pods addresses through the fleet patches, but kubemark:patchFleet is false/] },
        { what: "more than 10000 Nodes in all", list: [{ name: "a", replicas: 6000 }, { name: "b", replicas: 6000 }], want: [/^kubemark:pools: 12000 hollow Nodes in all, over 10000/] },
    ];
    for (const c of refused) {
        it(`refuses ${c.what}, every problem at once`, () => {
            const r = pools(c.list, c.extra);
            const got = problems(c.stack === undefined ? r : { ...r, stack: c.stack });
            assert.equal(got.length, c.want.length, got.join("\n"));
            c.want.forEach((re, i) => assert.match(got[i], re));
        });
    }
});

describe("a prebuilt image and the fleet patches' flags", () => {
    const table: [string, boolean, string, RegExp | undefined][] = [
        ["r:5000/kubemark:v1.37.2-capacity-podips-lifecycle", true, "10.64.0.0/12", undefined],
        ["r:5000/kubemark:v1.31.0-proxyfix-capacity-podips-lifecycle@sha256:" + "ab".repeat(32), true, "", undefined],
        ["r:5000/kubemark:v1.37.2", true, "", /^pool\(s\) general set a capacity, which needs an image with the capacity source patch.*r:5000\/kubemark:v1\.37\.2 is not tagged so.*unknown flag --node-capacity$/],
        ["r:5000/kubemark:v1.37.2", false, "10.64.0.0/12", /^podCidrRange is set, which needs an image with the podips source patch.*unknown flag --pod-cidr-lookup$/],
        ["r:5000/kubemark:v1.37.2-capacity", true, "10.64.0.0/12", /^podCidrRange is set, which needs .*podips.*unknown flag --pod-cidr-lookup$/],
        ["r:5000/kubemark:v1.37.2", true, "10.64.0.0/12", /^pool\(s\) general set a capacity and podCidrRange is set, .*capacity and podips source patch.*--node-capacity and --pod-cidr-lookup$/],
        ["r:5000/kubemark@sha256:" + "ab".repeat(32), true, "", /has no tag to tell/],
        ["r:5000/kubemark:v1.37.2", false, "", undefined],
    ];
    for (const [reference, capacity, podCidrRange, want] of table) {
        it(`${reference}, ${capacity ? "a pool with" : "no"} capacity, ${podCidrRange || "no podCidrRange"}: ${want === undefined ? "no warning" : "a warning"}`, () => {
            const s = parseSettings(raw({ "kubemark:imageRegistry": "", "kubemark:image": reference, "kubemark:podCidrRange": podCidrRange,
                "kubemark:pools": JSON.stringify([{ name: "general", replicas: 1, ...(capacity ? { capacity: { cpu: 8 } } : {}) }]) }));
            const got = prebuiltFleetWarning(s.image, s.pools, s.podCidrRange);
            if (want === undefined) {
                assert.equal(got, undefined);
            } else {
                assert.match(got ?? "", want);
            }
        });
    }
});

describe("pools to workloads", () => {
    it("deals a pool's Nodes over its zones round-robin", () => {
        const table = [[6, 2, [3, 3]], [7, 3, [3, 2, 2]], [1, 2, [1, 0]], [0, 3, [0, 0, 0]]] as const;
        for (const [replicas, zones, want] of table) {
            assert.deepEqual(Array.from({ length: zones }, (_, i) => zoneShare(replicas, zones, i)), want, `${replicas} over ${zones}`);
        }
    });

    it("one workload per pool and zone; the default pool keeps the names it had before pools", () => {
        const s = parseSettings(pools([{ name: "default", replicas: 3 }, ...TWO_POOLS]));
        const parts = poolParts("hollow-nodes", s.workloadName, s.pools);
        assert.deepEqual(parts.map((p) => [p.workloadName, p.resourcePrefix, p.replicas]), [
            ["hollow-node-lab", "hollow-nodes", 3],
            ["hollow-node-lab-general-zone-a", "hollow-nodes-general-zone-a", 3],
            ["hollow-node-lab-general-zone-b", "hollow-nodes-general-zone-b", 3],
            ["hollow-node-lab-gpu", "hollow-nodes-gpu", 2],
        ]);
        assert.deepEqual(parts[1].nodeLabels, [["kubemark-pulumi/pool", "general"], ["topology.kubernetes.io/region", "region-1"], ["topology.kubernetes.io/zone", "zone-a"]]);
        assert.deepEqual(parts[3].nodeLabels, [["kubemark-pulumi/pool", "gpu"], ["tier", "gpu"]]);
        assert.deepEqual(parts[0].nodeLabels, [["kubemark-pulumi/pool", "default"]]);
    });

    it("the sweep's expected pods are every workload's, so one pool's rollout is waited for beside the others", () => {
        const parts = [{ replicas: 3, nodesPerPod: 1 }, { replicas: 7, nodesPerPod: 3 }, { replicas: 2, nodesPerPod: 2 }];
        const expected = expectedPartsPodNodes(parts);
        assert.deepEqual(expected, [1, 2, 3, 3, undefined, undefined, undefined]);
        const pod = (name: string, nodes?: number, terminating = false) => ({ name, nodes, terminating });
        const all = [pod("a-0"), pod("a-1"), pod("a-2"), pod("b-0", 3), pod("b-1", 3), pod("b-last-0", 1), pod("c-0", 2)];
        assert.equal(layoutProgress(all, expected).settled, true);
        assert.deepEqual(layoutProgress([...all.slice(0, 6), pod("c-0", 1)], expected).otherLayout, [], "a count another part has is not another layout");
        assert.equal(layoutProgress([...all.slice(0, 6), pod("c-0", 1)], expected).settled, false);
    });

    it("a Node registered before pools gets the pool of the live pod behind it, and only then", () => {
        const node = (name: string) => ({ name, ready: true });
        const pods = [{ name: "w-0", terminating: false, pool: "default" }, { name: "w-1", terminating: true, pool: "default" },
            { name: "g-0", terminating: false, nodes: 2, pool: "gpu" }, { name: "old-0", terminating: false }];
        const wanted = poolLabelsWanted(["w-0", "w-1", "g-0-0", "g-0-1", "g-0-2", "old-0", "stray"].map(node), pods);
        assert.deepEqual([...wanted], [["w-0", "default"], ["g-0-0", "gpu"], ["g-0-1", "gpu"]]);
    });

    it("the capacity flag: sorted by resource name, dropped when nothing is set", () => {
        const table: [PoolSettings["capacity"], string][] = [
            [{}, ""], [{ cpu: "8" }, "cpu=8"], [{ memory: "32Gi", cpu: "8", ephemeralStorage: "100Gi" }, "cpu=8,ephemeral-storage=100Gi,memory=32Gi"],
        ];
        for (const [capacity, want] of table) {
            assert.equal(capacityFlagValue(capacity), want);
            const flags = kubeletFlags({ nodeLabels: [], nodeTaints: [], extendedResources: [], stackLabelValue: "s", maxPods: 110,
                imageService: "fake", logVerbosity: 2, capacity } as unknown as HollowPodOptions);
            assert.deepEqual(flags.filter((f) => f.startsWith(NODE_CAPACITY_FLAG)), want === "" ? [] : [`${NODE_CAPACITY_FLAG}=${want}`]);
            // Only keys the patched binary accepts.
            want.split(",").filter(Boolean).forEach((kv) => assert.ok((NODE_CAPACITY_KEYS as readonly string[]).includes(kv.split("=")[0]), kv));
        }
    });

    it("the podCIDR lookup flag: always when up hands podCIDRs out of podCidrRange, else left to the patch's default", () => {
        for (const [podCidrRange, want] of [["", []], ["10.64.0.0/12", [`${POD_CIDR_LOOKUP_FLAG}=always`]], [undefined, []]] as const) {
            const flags = kubeletFlags({ nodeLabels: [], nodeTaints: [], extendedResources: [], stackLabelValue: "s", maxPods: 110,
                imageService: "fake", logVerbosity: 2, podCidrRange } as unknown as HollowPodOptions);
            assert.deepEqual(flags.filter((f) => f.startsWith(POD_CIDR_LOOKUP_FLAG)), want, String(podCidrRange));
        }
    });
});
