// NodeReaper and HollowNodeSync provider logic against an injected in-memory cluster.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { STACK_LABEL_KEY } from "../../components/config/settings";
import { nodesFromTable } from "../../components/kube/clusterApi";
import { MISSED_LOOKS } from "../../components/kube/async";
import { checkSelector, DELETE_CONCURRENCY } from "../../components/reaper/reap";
import {
    HollowNodeSyncInputs, HollowNodeSyncProvider, NodeReaperInputs, NodeReaperProvider, PROVIDER_VERSION, SYNC_PROVIDER_VERSION,
} from "../../components/reaper/provider";
import { FakeClock, FakeCluster } from "../harness/fakeCluster";

const MINE = { "hollow-node": "true", [STACK_LABEL_KEY]: "kubemark.v1-31" };
const OTHER = { "hollow-node": "true", [STACK_LABEL_KEY]: "kubemark.v1-30" };
const POD_LABELS = { "app.kubernetes.io/instance": "hollow-node-v1-31" };

function reaperInputs(over: Partial<NodeReaperInputs> = {}): NodeReaperInputs {
    return {
        providerVersion: PROVIDER_VERSION,
        targetKubeconfig: "target", nodeKubeconfig: "node",
        selector: `${STACK_LABEL_KEY}=kubemark.v1-31`, selectorKey: STACK_LABEL_KEY,
        namespace: "kubemark-v1-31", podSelector: "app.kubernetes.io/instance=hollow-node-v1-31",
        timeoutSeconds: 60, ...over,
    };
}

function syncInputs(over: Partial<HollowNodeSyncInputs> = {}): HollowNodeSyncInputs {
    const { timeoutSeconds: _t, ...base } = reaperInputs();
    return { ...base, providerVersion: SYNC_PROVIDER_VERSION, replicas: 3, nodesPerPod: 1, readyTimeoutSeconds: 60, sweepTimeoutSeconds: 60, workloadFingerprint: "f1", ...over };
}

function world() {
    const target = new FakeCluster("https://target.test:6443");
    const node = new FakeCluster("https://node.test:6443");
    const clock = new FakeClock();
    const logs: string[] = [];
    const factory = (kubeconfig: string) => (kubeconfig === "target" ? target : node);
    return { target, node, clock, logs, factory, log: (m: string) => logs.push(m) };
}

describe("nodesFromTable", () => {
    const table = (rows: [string, string][]) => ({
        kind: "Table", columnDefinitions: [{ name: "Name" }, { name: "Status" }, { name: "Roles" }],
        rows: rows.map(([n, st]) => ({ cells: [n, st, "<none>"] })),
    });
    const cases: [string, boolean][] = [["Ready", true], ["NotReady", false], ["Unknown", false], ["Ready,SchedulingDisabled", true], ["NotReady,SchedulingDisabled", false]];
    for (const [status, ready] of cases) {
        it(`STATUS ${status} is ${ready ? "" : "not "}Ready`, () => {
            assert.deepEqual(nodesFromTable(table([["n", status]])), [{ name: "n", ready }]);
        });
    }
    it("refuses an answer that is not a Node table, rather than counting no Node Ready", () => {
        assert.throws(() => nodesFromTable({ kind: "NodeList" }), /without the table columns NAME and STATUS \(kind NodeList\)/);
    });
});

describe("checkSelector", () => {
    const cases: [string, boolean][] = [
        [`${STACK_LABEL_KEY}=kubemark.v1-31`, true],
        ["", false],
        [`${STACK_LABEL_KEY}=`, false],
        [`${STACK_LABEL_KEY}`, false],
        ["hollow-node=true", false],
        [`${STACK_LABEL_KEY}!=x`, false],
        // A pool's reaper narrows the stack's selector with equality terms; anything looser or first is refused.
        [`${STACK_LABEL_KEY}=a,hollow-node=true`, true],
        [`${STACK_LABEL_KEY}=a,kubemark-pulumi/pool=gpu,topology.kubernetes.io/zone=zone-a`, true],
        [`hollow-node=true,${STACK_LABEL_KEY}=a`, false],
        [`${STACK_LABEL_KEY}=a,${STACK_LABEL_KEY}=b`, false],
        [`${STACK_LABEL_KEY}=a,kubemark-pulumi/pool!=gpu`, false],
        [`${STACK_LABEL_KEY}=a,kubemark-pulumi/pool`, false],
        [`${STACK_LABEL_KEY}=a,`, false],
        [`${STACK_LABEL_KEY} in (a,b)`, false],
    ];
    for (const [selector, ok] of cases) {
        it(`${ok ? "accepts" : "refuses"} ${JSON.stringify(selector)}`, () => {
            if (ok) {
                assert.doesNotThrow(() => checkSelector(selector, STACK_LABEL_KEY));
            } else {
                assert.throws(() => checkSelector(selector, STACK_LABEL_KEY), /refusing to select hollow Nodes/);
            }
        });
    }
});

describe("NodeReaper delete", () => {
    it("deletes only this stack's Nodes and Leases, and reports the count", async () => {
        const w = world();
        for (let i = 0; i < 4; i++) {
            w.target.addNode(`hollow-node-v1-31-${i}`, MINE);
        }
        w.target.addNode("hollow-node-v1-30-0", OTHER);
        w.target.addNode("real-worker", {});
        await new NodeReaperProvider(w.factory, w.clock, w.log).delete("id", reaperInputs());
        assert.deepEqual([...w.target.nodes.keys()].sort(), ["hollow-node-v1-30-0", "real-worker"]);
        assert.deepEqual([...w.target.leases].sort(), ["hollow-node-v1-30-0", "real-worker"]);
        assert.ok(w.logs.some((l) => l.includes("removed 4 hollow Node(s)")), w.logs.join("\n"));
    });

    it("deletes many Nodes concurrently, bounded, and still only this stack's", async () => {
        const w = world();
        for (let i = 0; i < 200; i++) {
            w.target.addNode(`hollow-node-v1-31-${i}`, MINE);
        }
        w.target.addNode("real-worker", {});
        await new NodeReaperProvider(w.factory, w.clock, w.log).delete("id", reaperInputs());
        assert.deepEqual([...w.target.nodes.keys()], ["real-worker"]);
        assert.deepEqual([...w.target.leases], ["real-worker"]);
        assert.equal(w.target.maxInFlight, DELETE_CONCURRENCY, "as many in flight as allowed, no more");
    });

    it("a failed delete among many fails destroy after the others ran, with how many failed and which Nodes are left", async () => {
        const w = world();
        for (let i = 0; i < 50; i++) {
            w.target.addNode(`hollow-node-v1-31-${i}`, MINE);
        }
        w.target.failDeletes.add("hollow-node-v1-31-7");
        w.target.failDeletes.add("hollow-node-v1-31-9");
        await assert.rejects(new NodeReaperProvider(w.factory, w.clock, w.log).delete("id", reaperInputs()),
            /destroy: 2 of 50 delete\(s\) failed on https:\/\/target\.test:6443 \(Internal error deleting hollow-node-v1-31-7\); 2 Node\(s\) left: hollow-node-v1-31-7, hollow-node-v1-31-9/);
        assert.deepEqual([...w.target.nodes.keys()].sort(), ["hollow-node-v1-31-7", "hollow-node-v1-31-9"]);
        w.target.failDeletes.clear();
        await new NodeReaperProvider(w.factory, w.clock, w.log).delete("id", reaperInputs());
        assert.equal(w.target.nodes.size, 0, "a second destroy finishes the job");
    });

    const raceCases: { what: string; labels: Record<string, string>; left: string[] }[] = [
        { what: "relabelled to another stack between list and delete is left alone", labels: OTHER, left: ["hollow-node-v1-31-3"] },
        { what: "updated but still this stack's between list and delete is re-listed and deleted", labels: MINE, left: [] },
    ];
    for (const c of raceCases) {
        it(`a Node ${c.what}`, async () => {
            const w = world();
            for (let i = 0; i < 6; i++) {
                w.target.addNode(`hollow-node-v1-31-${i}`, MINE);
            }
            let raced = false;
            w.target.beforeDelete = (name) => {
                if (name === "hollow-node-v1-31-3" && !raced) {
                    raced = true;
                    w.target.touch(name, c.labels);
                }
            };
            await new NodeReaperProvider(w.factory, w.clock, w.log).delete("id", reaperInputs());
            assert.deepEqual([...w.target.nodes.keys()], c.left);
            assert.deepEqual([...w.target.leases], c.left, "a Lease goes only with its Node");
        });
    }

    it("is idempotent: a second delete, or Nodes already gone (404), succeeds", async () => {
        const w = world();
        w.target.addNode("hollow-node-v1-31-0", MINE);
        const p = new NodeReaperProvider(w.factory, w.clock, w.log);
        await p.delete("id", reaperInputs());
        await p.delete("id", reaperInputs());
        assert.equal(w.target.nodes.size, 0);
        assert.ok(w.logs.some((l) => l.includes("no hollow Nodes")));
    });

    it("waits for Nodes whose deletion lingers", async () => {
        const w = world();
        w.target.deleteLag = 3;
        w.target.addNode("hollow-node-v1-31-0", MINE);
        await new NodeReaperProvider(w.factory, w.clock, w.log).delete("id", reaperInputs());
        assert.equal(w.target.nodes.size, 0);
    });

    it("waits for hollow pods to stop before deleting Nodes", async () => {
        const w = world();
        w.target.addNode("hollow-node-v1-31-0", MINE);
        w.node.addPod("hollow-node-v1-31-0", "kubemark-v1-31", POD_LABELS, true);
        let deletedWhilePodRan = false;
        w.clock.onSleep = (t) => {
            if (t > 1_000_000 + 6000) {
                w.node.pods.clear();
            }
            deletedWhilePodRan ||= w.node.pods.size > 0 && !w.target.nodes.has("hollow-node-v1-31-0");
        };
        await new NodeReaperProvider(w.factory, w.clock, w.log).delete("id", reaperInputs());
        assert.equal(deletedWhilePodRan, false);
        assert.equal(w.target.nodes.size, 0);
    });

    it("rides out an overloaded API server: missed looks and unanswered deletes are tried again", async () => {
        const w = world();
        for (let i = 0; i < 40; i++) {
            w.target.addNode(`hollow-node-v1-31-${i}`, MINE);
        }
        w.node.missNext = MISSED_LOOKS - 1;
        w.target.missNext = MISSED_LOOKS - 1;
        w.target.missDeletes = 10;
        await new NodeReaperProvider(w.factory, w.clock, w.log).delete("id", reaperInputs());
        assert.equal(w.target.nodes.size, 0);
        assert.equal(w.target.leases.size, 0);
        assert.ok(w.logs.some((l) => /^destroy: 10 delete\(s\) without an answer .*trying them again$/.test(l)), w.logs.join("\n"));
        assert.equal(w.logs.filter((l) => /^destroy: no answer from/.test(l)).length, 2 * (MISSED_LOOKS - 1), w.logs.join("\n"));
    });

    it("fails within the bound, naming the server and what to do, when the target is down", async () => {
        const w = world();
        w.target.addNode("hollow-node-v1-31-0", MINE);
        w.target.down = true;
        await assert.rejects(new NodeReaperProvider(w.factory, w.clock, w.log).delete("id", reaperInputs()),
            (e: Error) => /cannot reach the target cluster's API server https:\/\/target\.test:6443/.test(e.message)
                && /reaperTimeoutSeconds \(60s\)/.test(e.message) && /run the command again/.test(e.message));
        w.target.down = false;
        await new NodeReaperProvider(w.factory, w.clock, w.log).delete("id", reaperInputs());
        assert.equal(w.target.nodes.size, 0);
    });

    it("fails at the deadline when pods never stop, deleting nothing", async () => {
        const w = world();
        w.target.addNode("hollow-node-v1-31-0", MINE);
        w.node.addPod("hollow-node-v1-31-0", "kubemark-v1-31", POD_LABELS);
        await assert.rejects(new NodeReaperProvider(w.factory, w.clock, w.log).delete("id", reaperInputs({ timeoutSeconds: 10 })),
            /1 hollow pod\(s\) still exist in namespace kubemark-v1-31/);
        assert.equal(w.target.nodes.size, 1);
        assert.ok(w.clock.t - 1_000_000 <= 12_000, "gave up within the bound");
    });

    it("refuses a selector that is not this stack's label", async () => {
        const w = world();
        w.target.addNode("real-worker", { "hollow-node": "true" });
        await assert.rejects(new NodeReaperProvider(w.factory, w.clock, w.log).delete("id", reaperInputs({ selector: "hollow-node=true" })),
            /refusing to select/);
        assert.equal(w.target.nodes.size, 1);
    });
});

describe("NodeReaper create and diff", () => {
    it("create checks the target is reachable and keeps its inputs as outputs", async () => {
        const w = world();
        const result = await new NodeReaperProvider(w.factory, w.clock, w.log).create(reaperInputs());
        assert.equal(result.id, `${STACK_LABEL_KEY}=kubemark.v1-31`);
        assert.deepEqual(result.outs, reaperInputs());
        w.target.down = true;
        await assert.rejects(new NodeReaperProvider(w.factory, w.clock, w.log).create(reaperInputs()), /before creating hollow nodes/);
    });

    const diffs: [string, Partial<NodeReaperInputs>, boolean, string[]][] = [
        ["no change", {}, false, []],
        ["a new provider version", { providerVersion: "0" }, true, []],
        ["new credentials", { targetKubeconfig: "rotated" }, true, []],
        ["a new timeout", { timeoutSeconds: 5 }, true, []],
        ["a new selector", { selector: `${STACK_LABEL_KEY}=other` }, true, ["selector"]],
    ];
    for (const [what, olds, changes, replaces] of diffs) {
        it(`diff: ${what}`, async () => {
            const d = await new NodeReaperProvider().diff("id", reaperInputs(olds), reaperInputs());
            assert.equal(d.changes, changes);
            assert.deepEqual(d.replaces, replaces);
        });
    }
});

describe("HollowNodeSync", () => {
    it("sweeps Nodes of removed replicas and pods renamed by a restart, then counts Ready Nodes", async () => {
        const w = world();
        for (const n of ["a", "b", "c", "old-1", "old-2"]) {
            w.target.addNode(n, MINE);
        }
        w.target.addNode("someone-else", OTHER);
        for (const p of ["a", "b", "c"]) {
            w.node.addPod(p, "kubemark-v1-31", POD_LABELS);
        }
        const { outs } = await new HollowNodeSyncProvider(w.factory, w.clock, w.log).create(syncInputs());
        assert.equal(outs.sweptNodes, 2);
        assert.equal(outs.readyNodes, 3);
        assert.deepEqual([...w.target.nodes.keys()].sort(), ["a", "b", "c", "someone-else"]);
    });

    it("keeps Nodes of terminating pods until the pods are gone, then sweeps them", async () => {
        const w = world();
        for (const n of ["a", "b"]) {
            w.target.addNode(n, MINE);
        }
        w.node.addPod("a", "kubemark-v1-31", POD_LABELS);
        w.node.addPod("b", "kubemark-v1-31", POD_LABELS, true);
        w.clock.onSleep = (t) => {
            if (t > 1_000_000 + 4000) {
                w.node.pods.delete("b");
            }
        };
        const { outs } = await new HollowNodeSyncProvider(w.factory, w.clock, w.log).create(syncInputs({ replicas: 1 }));
        assert.equal(outs.sweptNodes, 1);
        assert.deepEqual([...w.target.nodes.keys()], ["a"]);
    });

    it("waits for Nodes to become Ready and logs progress", async () => {
        const w = world();
        for (const n of ["a", "b", "c"]) {
            w.target.addNode(n, MINE, false);
            w.node.addPod(n, "kubemark-v1-31", POD_LABELS);
        }
        w.clock.onSleep = (t) => {
            const elapsed = t - 1_000_000;
            for (const [i, n] of ["a", "b", "c"].entries()) {
                w.target.nodes.get(n)!.ready ||= elapsed >= (i + 1) * 8000;
            }
        };
        const { outs } = await new HollowNodeSyncProvider(w.factory, w.clock, w.log).create(syncInputs());
        assert.equal(outs.readyNodes, 3);
        assert.ok(w.logs.some((l) => /^1\/3 hollow Nodes Ready/.test(l)), w.logs.join("\n"));
        assert.ok(w.logs.some((l) => /^3\/3 hollow Nodes Ready after 24s/.test(l)), w.logs.join("\n"));
    });

    it("forgives an API server that misses a few looks in a row (overloaded), and logs each", async () => {
        const w = world();
        w.target.addNode("a", MINE);
        w.node.addPod("a", "kubemark-v1-31", POD_LABELS);
        w.node.missNext = MISSED_LOOKS - 1;
        const { outs } = await new HollowNodeSyncProvider(w.factory, w.clock, w.log).create(syncInputs({ replicas: 1 }));
        assert.equal(outs.readyNodes, 1);
        assert.equal(w.logs.filter((l) => /^sweep: no answer from https:\/\/node\.test:6443: .*looking again/.test(l)).length, MISSED_LOOKS - 1, w.logs.join("\n"));
        w.target.missNext = MISSED_LOOKS - 1;
        const again = await new HollowNodeSyncProvider(w.factory, w.clock, w.log).create(syncInputs({ replicas: 1 }));
        assert.equal(again.outs.readyNodes, 1);
        assert.ok(w.logs.some((l) => /^sweep: no answer from https:\/\/target\.test:6443/.test(l)), w.logs.join("\n"));
    });

    it("still fails when the API server refuses MISSED_LOOKS looks in a row (it is down)", async () => {
        const w = world();
        w.target.addNode("a", MINE, false);
        w.node.addPod("a", "kubemark-v1-31", POD_LABELS);
        w.clock.onSleep = () => {
            w.target.refuseNext = 1;
        };
        await assert.rejects(new HollowNodeSyncProvider(w.factory, w.clock, w.log).create(syncInputs({ replicas: 1 })),
            /no answer from https:\/\/target\.test:6443: connect ECONNREFUSED/);
        const forgiven = w.logs.filter((l) => /^readiness: .*looking again/.test(l)).length;
        assert.equal(forgiven, MISSED_LOOKS - 1, w.logs.join("\n"));
    });

    it("waits out an API server too busy to answer until the readiness bound, then fails saying so", async () => {
        const w = world();
        w.target.addNode("a", MINE, false);
        w.node.addPod("a", "kubemark-v1-31", POD_LABELS);
        w.clock.onSleep = () => {
            w.target.missNext = 1;
        };
        await assert.rejects(new HollowNodeSyncProvider(w.factory, w.clock, w.log).create(syncInputs({ replicas: 1, readyTimeoutSeconds: 60 })),
            /no answer from https:\/\/target\.test:6443: .*no answer within 15s/);
        const waited = w.logs.filter((l) => /^readiness: .*the server is busy, so until the bound/.test(l)).length;
        assert.ok(waited > MISSED_LOOKS, `${waited} busy looks forgiven:\n${w.logs.join("\n")}`);
        assert.ok(w.clock.t - 1_000_000 >= 60_000, "the wait ran to its bound");
    });

    it("a busy server that answers again before the bound is only a delay", async () => {
        const w = world();
        w.target.addNode("a", MINE);
        w.node.addPod("a", "kubemark-v1-31", POD_LABELS);
        w.target.missNext = 3 * MISSED_LOOKS;
        const { outs } = await new HollowNodeSyncProvider(w.factory, w.clock, w.log).create(syncInputs({ replicas: 1 }));
        assert.equal(outs.readyNodes, 1);
    });

    it("fails at the ready deadline with the count it saw", async () => {
        const w = world();
        w.target.addNode("a", MINE, false);
        w.node.addPod("a", "kubemark-v1-31", POD_LABELS);
        await assert.rejects(new HollowNodeSyncProvider(w.factory, w.clock, w.log).create(syncInputs({ replicas: 1, readyTimeoutSeconds: 30 })),
            /only 0\/1 hollow Nodes Ready \(1 registered\) on https:\/\/target\.test:6443 after 30s.*1 hollow pod\(s\) exist in namespace kubemark-v1-31 on https:\/\/node\.test:6443\.$/s);
    });

    it("readyTimeoutSeconds 0 counts once without waiting", async () => {
        const w = world();
        w.target.addNode("a", MINE, false);
        w.node.addPod("a", "kubemark-v1-31", POD_LABELS);
        const { outs } = await new HollowNodeSyncProvider(w.factory, w.clock, w.log).create(syncInputs({ replicas: 1, readyTimeoutSeconds: 0 }));
        assert.equal(outs.readyNodes, 0);
        assert.equal(outs.registeredNodes, 1);
    });

    it("diff reports drift when a Node has no pod or fewer are Ready than up left, and nothing otherwise", async () => {
        const w = world();
        w.target.addNode("a", MINE);
        w.node.addPod("a", "kubemark-v1-31", POD_LABELS);
        const p = new HollowNodeSyncProvider(w.factory, w.clock, w.log);
        const one = syncInputs({ replicas: 1 });
        const olds = { ...one, readyNodes: 1, registeredNodes: 1, sweptNodes: 0 };
        assert.equal((await p.diff("id", olds, one)).changes, false);
        w.target.addNode("restarted-under-old-name", MINE);
        assert.equal((await p.diff("id", olds, one)).changes, true);
        assert.equal((await p.diff("id", olds, syncInputs({ replicas: 5 }))).changes, true);
        w.target.nodes.clear();
        assert.equal((await p.diff("id", olds, one)).changes, true, "a wiped target (up --refresh recreating the workload) waits again");
        w.target.down = true;
        assert.equal((await p.diff("id", olds, one)).changes, false, "an unreachable cluster never fails a preview");
    });
});
