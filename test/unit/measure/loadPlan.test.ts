// measure/scenarios/load: CL2's load test as a plan (counts, seeded times, scale targets) and its manifests.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_NODE_TAINT } from "../../../components/config/defaults";
import { STACK_LABEL_KEY } from "../../../components/config/settings";
import { defaultOptions, Options } from "../../../measure/options";
import { RUN_LABEL_KEY, tolerations } from "../../../measure/objects";
import { CL2LoadPlan, cl2LoadPlan, LoadObject, loadNamespaces, TimedStep } from "../../../measure/scenarios/load/plan";
import {
    daemonSetUpdate,
    deleteRequest,
    manifestOf,
    ManifestContext,
    mergePatch,
    scaleRequest,
} from "../../../measure/scenarios/load/objects";
import { GROUP_LABEL_KEY } from "../../../measure/phases/pods";

const RUN = "20261207t151949123z-a1b2c3";
const opts = (over: Partial<Options> = {}): Options => ({ ...defaultOptions("lab", "load"), ...over });
const plan = (nodes: number, over: Partial<Options> = {}, seed = 42) => cl2LoadPlan(opts(over), nodes, seed, RUN);
const cx: ManifestContext = {
    stackLabelValue: "kubemark-pulumi.lab",
    runId: RUN,
    tolerations: tolerations([DEFAULT_NODE_TAINT], 30),
    priorityClass: "pc",
};
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/*
 * Expected counts by hand from CL2's formulas (kubernetes/perf-tests 4b3415444f4c,
 * clusterloader2/testing/load/config.yaml): namespaces Nodes/100 (L27), pods per namespace 30 × 100 (L28-29),
 * big = ppn/1000 − 1 (L33, L49), medium = ppn/120 − 1 − 1 (L35, L43, L48), small = ppn/10 − 1 − 1 (L37, L42, L47),
 * Services (n + 1)/2 per size (L163-165), big Job only from 100 Nodes (L52), windows totalPods/10 s and a quarter of it
 * (L30, L115). At 100 Nodes: 2 + 23 + 298 Deployments, 3000 pods exactly.
 */
const table: [
    number,
    {
        ns: number;
        deployments: [number, number, number];
        services: number;
        jobs: number;
        pods: number;
        windowsS: [number, number];
        qps: number;
    },
][] = [
    [10, { ns: 1, deployments: [0, 0, 28], services: 14, jobs: 2, pods: 28 * 5 + 35 + 35, windowsS: [30, 7], qps: 10 }],
    [
        100,
        { ns: 1, deployments: [2, 23, 298], services: 1 + 12 + 149, jobs: 3, pods: 3000, windowsS: [300, 75], qps: 10 },
    ],
    [200, { ns: 2, deployments: [4, 46, 596], services: 2 * 162, jobs: 6, pods: 6000, windowsS: [600, 150], qps: 10 }],
    [
        5000,
        {
            ns: 50,
            deployments: [100, 1150, 14900],
            services: 50 * 162,
            jobs: 150,
            pods: 150_000,
            windowsS: [15_000, 3750],
            qps: 100,
        },
    ],
];

const kinds = (p: CL2LoadPlan, kind: LoadObject["kind"]) => p.objects.filter((o) => o.kind === kind);
const podSpecOf = (body: any) => body.spec.template.spec;

describe("CL2 load plan: counts", () => {
    for (const [nodes, want] of table) {
        it(`${nodes} hollow Nodes with the defaults: CL2's objects and pods`, () => {
            const p = plan(nodes);
            assert.equal(p.namespaces.length, want.ns);
            assert.equal(p.totalPods, 30 * nodes);
            assert.deepEqual(
                [
                    p.counts["Deployment/big"] ?? 0,
                    p.counts["Deployment/medium"] ?? 0,
                    p.counts["Deployment/small"] ?? 0,
                ],
                want.deployments,
            );
            const deployments = want.deployments.reduce((a, b) => a + b, 0);
            assert.equal(p.counts.ConfigMap, deployments, "one ConfigMap per Deployment");
            assert.equal(p.counts.Secret, deployments, "one Secret per Deployment");
            assert.equal(p.counts.StatefulSet, 2 * want.ns, "a small and a medium StatefulSet per namespace");
            assert.equal(p.counts["Service/headless"], 2 * want.ns);
            assert.equal(p.counts.Service, want.services + 2 * want.ns);
            assert.equal(p.counts.Job, want.jobs);
            assert.equal(p.counts.DaemonSet, 1);
            assert.equal(p.counts.PriorityClass, 1);
            assert.equal(p.podsAtFull, want.pods);
            assert.equal(p.daemonSetPods, nodes, "the DaemonSet's pods are counted apart");
            assert.deepEqual(
                [p.windowsMs.create, p.windowsMs.scale, p.windowsMs.delete],
                [want.windowsS[0] * 1000, want.windowsS[1] * 1000, want.windowsS[0] * 1000],
            );
            assert.equal(p.setupQps, want.qps);
        });
    }
    it("a small cluster says which sizes it lacks", () => {
        const notes = plan(10).notes.join("\n");
        assert.match(notes, /no big Deployments/);
        assert.match(notes, /no medium Deployments/);
        assert.match(notes, /no big Job/);
        assert.match(notes, /holds? 210 of the 300 pods/);
        assert.doesNotMatch(plan(100).notes.join("\n"), /no (big|medium|small) |of the 3000 pods/);
    });
    it("Nodes not a multiple of nodesPerNamespace: every Node loaded, the difference from CL2 noted", () => {
        const p = plan(150);
        assert.equal(p.namespaces.length, 2);
        assert.equal(p.podsPerNamespace, 2250);
        assert.deepEqual(
            [p.counts["Deployment/big"], p.counts["Deployment/medium"], p.counts["Deployment/small"]],
            [2 * 1, 2 * 16, 2 * 223],
        );
        assert.match(p.notes[0], /CL2 would make 1 and load only 100 Nodes/);
    });
    it("Deployment i has Service i for the first half (svc label), each mounts its own ConfigMap and Secret", () => {
        const p = plan(100);
        const services = new Set(
            kinds(p, "Service")
                .filter((s) => !s.headless)
                .map((s) => `${s.namespace}/${s.name}`),
        );
        const configs = new Set(kinds(p, "ConfigMap").map((c) => `${c.namespace}/${c.name}`));
        const secrets = new Set(kinds(p, "Secret").map((c) => `${c.namespace}/${c.name}`));
        let backed = 0;
        for (const d of kinds(p, "Deployment")) {
            const spec = podSpecOf(manifestOf(d, cx).body);
            const svc = (manifestOf(d, cx).body as any).spec.template.metadata.labels.svc;
            backed += services.has(`${d.namespace}/${svc}`) ? 1 : 0;
            assert.deepEqual(spec.volumes, [
                { name: "configmap", configMap: { name: d.name } },
                { name: "secret", secret: { secretName: d.name } },
            ]);
            assert.deepEqual(
                spec.containers[0].volumeMounts.map((m: any) => m.name),
                ["configmap", "secret"],
            );
            assert.ok(configs.has(`${d.namespace}/${d.name}`) && secrets.has(`${d.namespace}/${d.name}`));
        }
        assert.equal(backed, 162);
    });
});

describe("CL2 load plan: times and randomness", () => {
    const inWindow = (steps: readonly TimedStep[], windowMs: number) => {
        assert.ok(steps.length > 0);
        steps.forEach((s, i) => {
            assert.ok(
                Number.isInteger(s.atMs) && s.atMs >= 0 && s.atMs < windowMs,
                `${s.action} ${s.object.name} at ${s.atMs} of ${windowMs}`,
            );
            assert.ok(i === 0 || steps[i - 1].atMs <= s.atMs, "sorted by time");
        });
    };
    it("create, scale and delete at times in [0, T), sorted; setup and teardown one call per 1/qps", () => {
        const p = plan(200);
        inWindow(p.create, p.windowsMs.create);
        inWindow(p.scale, p.windowsMs.scale);
        inWindow(p.delete, p.windowsMs.delete);
        assert.ok(p.create[p.create.length - 1].atMs > p.windowsMs.create * 0.9, "spread over the whole window");
        assert.deepEqual(
            p.setup.slice(0, 2).map((s) => [s.atMs, s.object.kind]),
            [
                [0, "Service"],
                [100, "Service"],
            ],
        );
        const pc = p.setup.findIndex((s) => s.object.kind === "PriorityClass");
        assert.equal(p.setup[pc].object.name, p.priorityClass);
        assert.deepEqual(
            p.setup.slice(pc + 1, pc + 3).map((s) => [s.object.kind, s.atMs]),
            [
                ["ConfigMap", (pc + 1) * 100],
                ["Secret", (pc + 1) * 100],
            ],
        );
        const rank: Partial<Record<LoadObject["kind"], number>> = {
            ConfigMap: 0,
            Secret: 0,
            PriorityClass: 1,
            Service: 2,
        };
        assert.deepEqual(
            p.teardown.map((s) => s.object),
            [...p.setup.map((s) => s.object)].sort((a, b) => (rank[a.kind] ?? 3) - (rank[b.kind] ?? 3)),
        );
        assert.ok(p.teardown.every((s) => s.action === "delete") && p.setup.every((s) => s.action === "create"));
    });
    it("every object is made once and deleted once; a StatefulSet with its headless Service, created first, deleted last", () => {
        const p = plan(100);
        const key = (o: LoadObject) => `${o.kind}/${o.namespace}/${o.name}`;
        const made = [...p.setup, ...p.create].map((s) => key(s.object));
        const gone = [...p.delete, ...p.teardown].map((s) => key(s.object));
        assert.deepEqual([...made].sort(), p.objects.map(key).sort());
        assert.deepEqual([...gone].sort(), p.objects.map(key).sort());
        assert.equal(new Set(made).size, made.length);
        const i = p.create.findIndex((s) => s.object.kind === "StatefulSet");
        assert.deepEqual(
            [p.create[i - 1].object.headless, p.create[i - 1].atMs, p.create[i - 1].object.name],
            [true, p.create[i].atMs, p.create[i].object.name],
        );
        const j = p.delete.findIndex((s) => s.object.kind === "StatefulSet");
        assert.deepEqual([p.delete[j + 1].object.headless, p.delete[j + 1].atMs], [true, p.delete[j].atMs]);
    });
    it("the same seed gives the same plan; another seed another; options.seed wins over the fresh one", () => {
        assert.deepEqual(plan(100, {}, 7), plan(100, {}, 7));
        assert.notDeepEqual(plan(100, {}, 7).create, plan(100, {}, 8).create);
        assert.notDeepEqual(plan(100, {}, 7).scale, plan(100, {}, 8).scale);
        const pinned = plan(100, { seed: 7 }, 123);
        assert.equal(pinned.seed, 7);
        assert.deepEqual(pinned, plan(100, {}, 7));
    });
    it("scale targets: RandIntRange(trunc(0.5 × size), trunc(1.5 × size)), all of it reached, and one DaemonSet update", () => {
        const p = plan(200);
        const seen = new Map<number, Set<number>>();
        let after = 0;
        for (const s of p.scale.filter((x) => x.action === "scale")) {
            const size = s.object.replicas as number;
            const r = s.replicas as number;
            assert.ok(
                Number.isInteger(r) && r >= Math.trunc(size * 0.5) && r <= Math.trunc(size * 1.5),
                `${s.object.name}: ${size} → ${r}`,
            );
            seen.set(size, (seen.get(size) ?? new Set()).add(r));
            after += r;
        }
        assert.deepEqual(
            [...(seen.get(5) ?? [])].sort((a, b) => a - b),
            [2, 3, 4, 5, 6, 7],
            "a small object goes to [2, 7] as CL2",
        );
        assert.equal(after, p.podsAfterScale);
        assert.equal(p.scale.length, p.counts.Deployment + p.counts.StatefulSet + p.counts.Job + 1);
        assert.deepEqual(
            p.scale.filter((x) => x.action === "update").map((x) => x.object.kind),
            ["DaemonSet"],
        );
    });
    it("at least one hollow Node", () => {
        assert.throws(() => plan(0), /at least one/);
    });
});

describe("CL2 load manifests", () => {
    it("every pod: the stack's Nodes, the run's and group's labels, the tolerations, 5m/20M, no volume a hollow Node cannot mount", () => {
        const p = plan(100);
        for (const o of p.objects.filter((x) => ["Deployment", "StatefulSet", "Job", "DaemonSet"].includes(x.kind))) {
            const { apiPath, body } = manifestOf(o, cx) as { apiPath: string; body: any };
            assert.match(apiPath, new RegExp(`/namespaces/${o.namespace}/${o.kind.toLowerCase()}s$`));
            const t = body.spec.template;
            assert.equal(t.metadata.labels[RUN_LABEL_KEY], RUN);
            assert.equal(t.metadata.labels[STACK_LABEL_KEY], cx.stackLabelValue);
            assert.equal(t.metadata.labels[GROUP_LABEL_KEY], "load");
            assert.equal(t.metadata.labels.app, o.name);
            for (const [k, v] of Object.entries(body.spec.selector.matchLabels)) {
                assert.equal(t.metadata.labels[k], v, `${o.name}: the selector picks its own pods`);
            }
            assert.deepEqual(t.spec.nodeSelector, { [STACK_LABEL_KEY]: cx.stackLabelValue });
            assert.deepEqual(t.spec.tolerations, cx.tolerations);
            assert.equal(t.spec.terminationGracePeriodSeconds, 1);
            assert.equal(t.spec.automountServiceAccountToken, false);
            assert.equal(t.spec.enableServiceLinks, false);
            assert.deepEqual(t.spec.containers[0].resources, { requests: { cpu: "5m", memory: "20M" } });
            assert.equal(body.spec.volumeClaimTemplates, undefined);
            for (const v of t.spec.volumes ?? []) {
                assert.deepEqual(
                    Object.keys(v)
                        .filter((k) => k !== "name")
                        .filter((k) => k !== "configMap" && k !== "secret"),
                    [],
                    `${o.name}: ${JSON.stringify(v)}`,
                );
            }
        }
        const job = manifestOf(kinds(p, "Job")[0], cx).body as any;
        assert.deepEqual(
            [job.spec.parallelism, job.spec.completions, job.spec.template.spec.restartPolicy],
            [5, 15, "OnFailure"],
        );
        const ds = manifestOf(kinds(p, "DaemonSet")[0], cx).body as any;
        assert.equal(ds.spec.template.spec.priorityClassName, "pc");
        assert.deepEqual(ds.spec.updateStrategy.rollingUpdate, { maxUnavailable: 10 });
    });
    it("names: DNS-1123 labels of at most 63 characters, StatefulSets at most 52, namespaces even for a long stack name", () => {
        const p = cl2LoadPlan(
            opts({ stack: "Org/Proj/A_Very_Long_Stack_Name_That_Goes_On_And_On_And_On", nodesPerNamespace: 1 }),
            1000,
            1,
            RUN,
        );
        for (const name of [...p.namespaces, p.priorityClass, ...p.objects.map((o) => o.name)]) {
            assert.ok(name.length <= 63 && DNS_LABEL.test(name), name);
        }
        assert.ok(kinds(p, "StatefulSet").every((s) => s.name.length <= 52));
        assert.equal(new Set(p.namespaces).size, 1000);
        assert.deepEqual(loadNamespaces("v1-31", 2), ["kubemark-measure-v1-31-1", "kubemark-measure-v1-31-2"]);
    });
    it("the PriorityClass is cluster-scoped, named by the run, labelled for the cleanup", () => {
        const p = plan(10);
        const pc = kinds(p, "PriorityClass")[0];
        const m = manifestOf(pc, { ...cx, priorityClass: p.priorityClass }) as { apiPath: string; body: any };
        assert.equal(m.apiPath, "/apis/scheduling.k8s.io/v1/priorityclasses");
        assert.deepEqual(
            [m.body.metadata.name, m.body.value, m.body.globalDefault, m.body.metadata.labels[RUN_LABEL_KEY]],
            [`kubemark-measure-${RUN}`, 1000000, false, RUN],
        );
    });
    it("scale, update and delete calls", () => {
        const p = plan(100);
        const d = kinds(p, "Deployment")[0];
        assert.deepEqual(scaleRequest(d, 7), {
            method: "PUT",
            path: `/apis/apps/v1/namespaces/${d.namespace}/deployments/${d.name}/scale`,
            readFirst: false,
            body: {
                apiVersion: "autoscaling/v1",
                kind: "Scale",
                metadata: { name: d.name, namespace: d.namespace },
                spec: { replicas: 7 },
            },
        });
        const j = kinds(p, "Job")[0];
        const js = scaleRequest(j, 3);
        assert.deepEqual(
            [js.path, js.readFirst, js.body],
            [`/apis/batch/v1/namespaces/${j.namespace}/jobs/${j.name}`, true, { spec: { parallelism: 3 } }],
        );
        assert.throws(() => scaleRequest(kinds(p, "DaemonSet")[0], 1), /not scaled/);
        const ds = kinds(p, "DaemonSet")[0];
        const current = manifestOf(ds, cx).body as any;
        const updated = mergePatch(
            { ...current, metadata: { ...current.metadata, resourceVersion: "9" } },
            daemonSetUpdate(ds, cx).body,
        ) as any;
        assert.deepEqual(updated.spec.template.spec.containers[0].env, [{ name: "TEST_ENV", value: "after update" }]);
        assert.deepEqual(current.spec.template.spec.containers[0].env, [{ name: "TEST_ENV", value: "before update" }]);
        assert.deepEqual(
            { ...updated.spec.template.spec, containers: [] },
            { ...current.spec.template.spec, containers: [] },
            "only the container changes",
        );
        assert.equal(updated.metadata.resourceVersion, "9");
        assert.deepEqual(deleteRequest(d), {
            method: "DELETE",
            path: `/apis/apps/v1/namespaces/${d.namespace}/deployments/${d.name}`,
            readFirst: false,
            body: { apiVersion: "v1", kind: "DeleteOptions", propagationPolicy: "Background" },
        });
        assert.deepEqual(mergePatch({ a: 1, b: { c: [1, 2], d: 2 } }, { b: { c: [3], d: null }, e: "x" }), {
            a: 1,
            b: { c: [3] },
            e: "x",
        });
    });
});
