// What the churn follows during a run: its progress lines, the hollow pods and their replacements, the load's pods.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PodLike } from "../../../measure/kube";
import {
    firstSeenMs,
    HollowPod,
    hollowPodOf,
    OwnerRef,
    replacementOf,
} from "../../../measure/scenarios/churn/hollowPods";
import { KillProgress, progressOf } from "../../../measure/scenarios/churn/progress";
import { loadPodSelector } from "../../../measure/scenarios/churn/track";
import { RS, STS } from "../../harness/churnOwners";

describe("churn: progress lines say what is happening", () => {
    const base: KillProgress = {
        nowMs: 35_000,
        killMs: 0,
        upAtMs: 90_000,
        graceSeconds: 50,
        nodes: [{ lastRenewMs: -200 }],
        heldBy: [],
    };
    const cases: [string, Partial<KillProgress>, string][] = [
        [
            "down, not yet noticed",
            {},
            "down 35 s of 90 s, Lease last renewed 35.2 s ago, not yet NotReady (grace 50 s)",
        ],
        [
            "down and NotReady",
            { nowMs: 60_000, nodes: [{ lastRenewMs: -200, notReadySeconds: 52.123 }] },
            "down 60 s of 90 s, Lease last renewed 60.2 s ago, NotReady since 52.1 s after the kill",
        ],
        [
            "several Nodes per pod",
            { nodes: [{ lastRenewMs: -200, notReadySeconds: 30 }, { lastRenewMs: 1000 }] },
            "down 35 s of 90 s, Leases last renewed 34 s ago at the latest, 1 of 2 Nodes NotReady (grace 50 s)",
        ],
        [
            "the window over, releasing",
            { nowMs: 90_500, endedMs: 90_000 },
            "window over after 90 s down, releasing the hold",
        ],
        [
            "released, no replacement yet, held by another kill",
            { nowMs: 95_000, endedMs: 90_000, releasedMs: 91_000, heldBy: [2], nodes: [{ notReadySeconds: 52 }] },
            "window over, released 4 s ago after 91 s down; no replacement yet: its owner is still held by kill 2; not Ready yet",
        ],
        [
            "replaced and Ready",
            {
                nowMs: 95_000,
                endedMs: 90_000,
                releasedMs: 90_400,
                replacement: { name: "hollow-x", seconds: 0.4567 },
                nodes: [{ notReadySeconds: 52, readySeconds: 94 }],
            },
            "window over, released 4.6 s ago after 90.4 s down; replacement hollow-x came 0.46 s after the window ended; Ready again",
        ],
        [
            "back but never seen NotReady",
            { nowMs: 95_000, endedMs: 90_000, releasedMs: 90_000, nodes: [{}] },
            "window over, released 5 s ago after 90 s down; no replacement pod yet; not Ready yet; never seen NotReady",
        ],
    ];
    for (const [name, over, want] of cases) {
        it(name, () => assert.equal(progressOf({ ...base, ...over }), want));
    }
});

describe("churn: the hollow pods and their replacements", () => {
    const pod = (name: string, owner: OwnerRef, seenMs: number, over: Partial<HollowPod> = {}): HollowPod => ({
        uid: `${name}@${seenMs}`,
        name,
        owner,
        createdMs: seenMs,
        seenMs,
        terminating: false,
        ...over,
    });

    it("a pod's controller, with its apiVersion and name; a pod no controller owns is none of the churn's", () => {
        const p: PodLike = {
            metadata: {
                uid: "u",
                name: "hollow-node-0",
                creationTimestamp: "2026-01-01T00:00:01Z",
                ownerReferences: [
                    {
                        apiVersion: "apps/v1",
                        kind: "StatefulSet",
                        name: "hollow-node",
                        uid: "s",
                        controller: true,
                    } as never,
                ],
                annotations: { "kubemark-pulumi/hollow-nodes": "3" },
            },
        };
        assert.deepEqual(hollowPodOf(p, 5), {
            uid: "u",
            name: "hollow-node-0",
            owner: { apiVersion: "apps/v1", kind: "StatefulSet", name: "hollow-node", uid: "s" },
            createdMs: Date.parse("2026-01-01T00:00:01Z"),
            seenMs: 5,
            terminating: false,
            nodes: 3,
        });
        assert.equal(hollowPodOf({ metadata: { uid: "u", name: "x" } }, 5), undefined);
    });

    it("a pod that ran before the churn is never a replacement, however late the watch delivers it", () => {
        const before = new Set(["a", "b"]);
        assert.equal(firstSeenMs("a", 1300, undefined, before), 0);
        assert.equal(firstSeenMs("c2", 1500, undefined, before), 1500);
        assert.equal(firstSeenMs("c2", 1800, 1500, before), 1500, "a pod keeps the time it was first seen");
    });

    const victimS = pod("hollow-node-1", STS, 0);
    const victimR = pod("hollow-node-dep-a", RS, 0);
    const cases: [string, HollowPod, HollowPod[], Set<string>, string | undefined][] = [
        [
            "a StatefulSet's pod back under its name",
            victimS,
            [pod("hollow-node-0", STS, 0), pod("hollow-node-1", STS, 95_000)],
            new Set(),
            "hollow-node-1@95000",
        ],
        [
            "not another of its pods back from an earlier kill",
            victimS,
            [pod("hollow-node-0", STS, 60_000)],
            new Set(),
            undefined,
        ],
        [
            "not while terminating",
            victimS,
            [pod("hollow-node-1", STS, 95_000, { terminating: true })],
            new Set(),
            undefined,
        ],
        [
            "a ReplicaSet's first new pod after the kill",
            victimR,
            [
                pod("hollow-node-dep-z", RS, 0),
                pod("hollow-node-dep-c", RS, 96_000),
                pod("hollow-node-dep-b", RS, 95_000),
            ],
            new Set(),
            "hollow-node-dep-b@95000",
        ],
        [
            "one another kill took is not this one's",
            victimR,
            [pod("hollow-node-dep-c", RS, 96_000), pod("hollow-node-dep-b", RS, 95_000)],
            new Set(["hollow-node-dep-b@95000"]),
            "hollow-node-dep-c@96000",
        ],
        [
            "another owner's pod is not",
            victimR,
            [pod("hollow-node-dep-b", { ...RS, uid: "other" }, 95_000)],
            new Set(),
            undefined,
        ],
    ];
    for (const [name, victim, live, taken, want] of cases) {
        it(name, () => assert.equal(replacementOf(live, victim, 1000, taken)?.uid, want));
    }

    it("the load's pods on a killed Node: any namespace of a load run of this stack", () => {
        assert.equal(loadPodSelector("kubemark.lab"), "kubemark-pulumi/stack=kubemark.lab,kubemark-pulumi/measure-run");
    });
});
