// podCIDRs from the stack's range: blocks handed out in name order around every CIDR in use, never twice, never to
// another's Node; and the config that asks for it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseSettings } from "../../components/config/read";
import { ConfigError } from "../../components/config/readers";
import { allocateCidrs, assignPodCidrs } from "../../components/reaper/podCidrs";
import { parseCidr } from "../../components/config/validate";
import { FakeCluster, FakeClock } from "../harness/fakeCluster";

describe("podCIDR allocation", () => {
    it("parses IPv4 CIDRs to their block, and nothing else", () => {
        const table: [string, { start: number; size: number } | undefined][] = [
            ["10.64.0.0/12", { start: 10 * 2 ** 24 + 64 * 2 ** 16, size: 2 ** 20 }],
            ["10.64.1.7/24", { start: 10 * 2 ** 24 + 64 * 2 ** 16 + 256, size: 256 }],
            ["10.64.0.0/33", undefined], ["10.256.0.0/16", undefined], ["fd00::/64", undefined], ["10.0.0.0", undefined],
        ];
        for (const [cidr, want] of table) {
            assert.deepEqual(parseCidr(cidr), want, cidr);
        }
    });

    const table: { what: string; range: string; mask: number; used: string[]; wanting: string[]; want: [string, string][] }[] = [
        { what: "in name order from the range's start", range: "10.64.0.0/16", mask: 24, used: [], wanting: ["n-1", "n-0"],
            want: [["n-0", "10.64.0.0/24"], ["n-1", "10.64.1.0/24"]] },
        { what: "around blocks in use, wider ones too", range: "10.64.0.0/16", mask: 24, used: ["10.64.0.0/24", "10.64.2.0/23", "192.168.0.0/24"],
            wanting: ["a", "b"], want: [["a", "10.64.1.0/24"], ["b", "10.64.4.0/24"]] },
        { what: "no more than the range holds", range: "10.64.0.0/23", mask: 24, used: ["10.64.1.0/24"], wanting: ["a", "b"], want: [["a", "10.64.0.0/24"]] },
        { what: "nothing when a block is wider than the range", range: "10.64.0.0/25", mask: 24, used: [], wanting: ["a"], want: [] },
    ];
    for (const c of table) {
        it(c.what, () => assert.deepEqual([...allocateCidrs(c.range, c.mask, c.used, c.wanting)], c.want));
    }

    it("gives the stack's Nodes without one a block, keeps the ones they have, and never touches another's Node", async () => {
        const target = new FakeCluster();
        const mine = { "kubemark-pulumi/stack": "kubemark.s" };
        for (const name of ["s-0", "s-1", "s-2", "other"]) {
            target.addNode(name, name === "other" ? {} : mine);
        }
        target.nodes.get("s-1")!.podCIDRs = ["10.64.0.0/24"];
        target.nodes.get("other")!.podCIDRs = ["10.64.1.0/24"];
        const log: string[] = [];
        const clock = new FakeClock();
        const req = { selector: "kubemark-pulumi/stack=kubemark.s", range: "10.64.0.0/22", mask: 24, deadline: clock.now() + 60_000 };
        assert.deepEqual(await assignPodCidrs(target, req, clock, (l) => log.push(l)), ["s-0", "s-2"]);
        assert.deepEqual(["s-0", "s-1", "s-2", "other"].map((n) => target.nodes.get(n)!.podCIDRs),
            [["10.64.2.0/24"], ["10.64.0.0/24"], ["10.64.3.0/24"], ["10.64.1.0/24"]]);
        assert.deepEqual(await assignPodCidrs(target, req, clock, (l) => log.push(l)), [], "a second sync has nothing to give");
        target.addNode("s-3", mine);
        assert.deepEqual(await assignPodCidrs(target, req, clock, (l) => log.push(l)), []);
        assert.match(log.join("\n"), /10\.64\.0\.0\/22 has no free \/24 left for 1 hollow Node\(s\)/);
    });
});

describe("podCidrRange in config", () => {
    const raw = (values: Record<string, string>) => ({
        values: { "kubemark:kubernetesVersion": "v1.31.0", "kubemark:imageRegistry": "r:5000", ...values },
        secretKeys: new Set<string>(), project: "kubemark", stack: "s", env: { HOME: "/h" },
    });
    const problems = (values: Record<string, string>) => {
        try {
            parseSettings(raw(values));
            return [];
        } catch (e) {
            assert.ok(e instanceof ConfigError);
            return [...e.problems];
        }
    };

    it("is off by default, and read with its mask size", () => {
        assert.deepEqual([parseSettings(raw({})).podCidrRange, parseSettings(raw({})).podCidrMaskSize], ["", 24]);
        const s = parseSettings(raw({ "kubemark:podCidrRange": "10.64.0.0/12", "kubemark:podCidrMaskSize": "26" }));
        assert.deepEqual([s.podCidrRange, s.podCidrMaskSize], ["10.64.0.0/12", 26]);
    });

    it("refuses what is not an IPv4 range, a mask out of bounds, and a range smaller than one block, all at once", () => {
        assert.deepEqual(problems({ "kubemark:podCidrRange": "fd00::/64", "kubemark:podCidrMaskSize": "31" }), [
            'kubemark:podCidrRange = "fd00::/64": must be an IPv4 CIDR such as 10.64.0.0/12',
            'kubemark:podCidrMaskSize = "31": must be a whole number from 16 to 30',
        ]);
        assert.match(problems({ "kubemark:podCidrRange": "10.64.0.0/25" })[0],
            /^kubemark:podCidrRange = 10\.64\.0\.0\/25: is smaller than one Node's block \(kubemark:podCidrMaskSize 24\)/);
    });
});
