// The churn's verdicts: the target's grace period by release, whether each kill held and took, its rows and report.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { churnScenario } from "../../../measure/scenarios/churn";
import type { ChurnOutcome, KilledNode } from "../../../measure/scenarios/churn/model";
import {
    downSecondsToNotice,
    killVerdict,
    nodeMonitorGraceSeconds,
    noticeSeconds,
} from "../../../measure/scenarios/churn/verdict";

describe("churn: the target's grace period by release", () => {
    const cases: [string | undefined, number, boolean][] = [
        ["v1.29.15", 40, true],
        ["v1.31.14", 40, true],
        ["v1.31.0-gke.1000", 40, true],
        ["v1.32.0", 50, true],
        ["v1.37.2", 50, true],
        ["1.33.1+k3s1", 50, true],
        ["v2.0.0", 50, true],
        ["", 50, false],
        [undefined, 50, false],
        ["devel", 50, false],
    ];
    for (const [version, seconds, known] of cases) {
        it(`${JSON.stringify(version)}: ${seconds} s`, () =>
            assert.deepEqual(nodeMonitorGraceSeconds(version), { seconds, known }));
    }
    it("the target notices after grace + a renewal + a monitor period", () => {
        assert.equal(noticeSeconds(50), 65);
        assert.equal(downSecondsToNotice(40), 56);
    });
});

const killed = (over: Partial<KilledNode> = {}): KilledNode => ({
    node: "hollow-node-0",
    pod: "hollow-node-0",
    kill: 1,
    killSeconds: 1,
    heldSeconds: 90,
    notReadySeconds: 52,
    readySeconds: 95,
    renewals: [],
    taints: [],
    evictions: [],
    ...over,
});

describe("churn: did each kill hold and take", () => {
    const cases: [
        string,
        Partial<KilledNode>,
        { renewedInside: number[]; didNotTake: boolean; replacedInside: boolean; tooShort: boolean },
    ][] = [
        [
            "NotReady, silent for the window: held and took",
            {},
            { renewedInside: [], didNotTake: false, replacedInside: false, tooShort: false },
        ],
        [
            "a renewal in the first 2 s left before the kill",
            { renewals: [0.4, 1.9] },
            { renewedInside: [], didNotTake: false, replacedInside: false, tooShort: false },
        ],
        [
            "renewals inside the window",
            { renewals: [1, 12.5, 22.5, 95] },
            { renewedInside: [12.5, 22.5], didNotTake: false, replacedInside: false, tooShort: false },
        ],
        [
            "renewals after the release are the pod back",
            { renewals: [90.5, 100] },
            { renewedInside: [], didNotTake: false, replacedInside: false, tooShort: false },
        ],
        [
            "never NotReady, held 90 s > 65 s: did not take",
            { notReadySeconds: undefined },
            { renewedInside: [], didNotTake: true, replacedInside: false, tooShort: false },
        ],
        [
            "never NotReady, held 65 s: too short, not failed",
            { notReadySeconds: undefined, heldSeconds: 65 },
            { renewedInside: [], didNotTake: false, replacedInside: false, tooShort: true },
        ],
        [
            "cut short by the run: held 20 s",
            { notReadySeconds: undefined, heldSeconds: 20, renewals: [30] },
            { renewedInside: [], didNotTake: false, replacedInside: false, tooShort: true },
        ],
        [
            "no release recorded: --down-seconds stands in",
            { notReadySeconds: undefined, heldSeconds: undefined, renewals: [80] },
            { renewedInside: [80], didNotTake: true, replacedInside: false, tooShort: false },
        ],
        [
            "a replacement before the window's end",
            { replacementSeconds: -30, replacementPod: "x" },
            { renewedInside: [], didNotTake: false, replacedInside: true, tooShort: false },
        ],
        [
            "a replacement after it",
            { replacementSeconds: 0.4, replacementPod: "x" },
            { renewedInside: [], didNotTake: false, replacedInside: false, tooShort: false },
        ],
        [
            "the pod was gone: nothing judged",
            { gone: true, notReadySeconds: undefined, renewals: [10] },
            { renewedInside: [], didNotTake: false, replacedInside: false, tooShort: false },
        ],
    ];
    for (const [name, over, want] of cases) {
        it(name, () => assert.deepEqual(killVerdict(killed(over), 50, 90), want));
    }
});

const outcome = (nodes: KilledNode[], over: Partial<ChurnOutcome> = {}): ChurnOutcome => ({
    workloadKind: "StatefulSet",
    targetVersion: "v1.33.1",
    graceSeconds: 50,
    graceKnown: true,
    downSeconds: 90,
    killed: nodes,
    leftovers: [],
    nodes: { expected: 3, minReady: 2, looks: 10, failedLooks: 0, notReady: [], samples: [] },
    final: { registered: 3, ready: 3, replicas: 3, stale: [] },
    durationSeconds: 100,
    cancelled: false,
    ...over,
});

describe("churn: rows and report", () => {
    const find = (o: ChurnOutcome, sli: string) => churnScenario.rows(o).find((r) => r.sli === sli);

    it("every kill held and took: the summary row passes, no kill row", () => {
        const o = outcome([killed(), killed({ node: "hollow-node-2", pod: "hollow-node-2", kill: 2 })]);
        assert.equal(find(o, "kills that did not hold or did not take")!.verdict, "pass");
        assert.ok(!churnScenario.rows(o).some((r) => r.sli.startsWith("kill of")));
        assert.deepEqual(churnScenario.preconditions(o), []);
    });

    it("a renewal inside the window and a kill that did not take: each a failing row of its own", () => {
        const o = outcome([
            killed({ renewals: [12.5] }),
            killed({ node: "hollow-node-2", pod: "hollow-node-2", kill: 2, notReadySeconds: undefined }),
        ]);
        const rows = churnScenario.rows(o);
        assert.deepEqual(
            rows.filter((r) => r.verdict === "fail").map((r) => [r.sli, r.value, r.atMost]),
            [
                ["kills that did not hold or did not take", 2, 0],
                ["kill of hollow Node hollow-node-0: Lease renewed inside its window", 1, 0],
                ["kill of hollow Node hollow-node-2: did not take", 1, 0],
            ],
        );
        assert.match(
            find(o, "kill of hollow Node hollow-node-2: did not take")!.note!,
            /held 90 s, longer than the 65 s the target needs \(grace 50 s \(v1.33.1's default\)/,
        );
    });

    it("too short a window: said with the --down-seconds that would do, not failed", () => {
        const o = outcome([killed({ notReadySeconds: undefined, heldSeconds: 30 })], {
            graceSeconds: 40,
            targetVersion: "v1.31.0",
        });
        const r = find(o, "killed hollow Nodes never NotReady: window too short for the target to notice")!;
        assert.equal(r.verdict, "n/a");
        assert.match(r.note!, /held at most 30 s, not more than the 55 s .* use --down-seconds 56 or more/);
        assert.equal(find(o, "kills that did not hold or did not take")!.verdict, "pass");
    });

    it("a kill that found its pod gone: reported, and a precondition the run did not meet", () => {
        const o = outcome([killed({ gone: true, notReadySeconds: undefined })]);
        assert.equal(find(o, "kills that found their pod already gone")!.value, 1);
        assert.deepEqual(churnScenario.preconditions(o), [
            "kill 1: hollow pod hollow-node-0 was already gone (or replaced) when its kill came, so it measured nothing",
        ]);
    });

    it("the markdown holds the scenario's sections only: the command line adds header, parameters and footer", () => {
        const o = outcome(
            [
                killed({
                    policy: "kubemark-pulumi.churn-hold.r.1",
                    replacementPod: "hollow-node-dep-x",
                    replacementSeconds: 0.8,
                    readySeconds: undefined,
                }),
            ],
            { workloadKind: "ReplicaSet", leftovers: ["ValidatingAdmissionPolicy kubemark-pulumi.churn-hold.old.1"] },
        );
        const md = churnScenario.markdown({} as never, o, []).join("\n");
        assert.match(md, /^## Each killed hollow Node/);
        assert.match(md, /## How the kills were held/);
        assert.match(md, /`kubemark-pulumi.churn-hold.r.1`/);
        assert.match(md, /removed first: ValidatingAdmissionPolicy kubemark-pulumi.churn-hold.old.1/);
        assert.match(md, /\| hollow-node-dep-x at 0.8 \| — \| held and took \|/);
        assert.doesNotMatch(md, /^# |## Parameters|## SLIs/m);
        assert.deepEqual(churnScenario.json(o), { churn: o });
        assert.equal(churnScenario.name, "churn");
        assert.equal(churnScenario.onLiveRun, "skip");
    });
});
