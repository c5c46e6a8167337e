// Scenario load's plan: ClusterLoader2's load test (testing/load/config.yaml) as objects and seeded, random steps.
import seedrandom from "seedrandom";
import type { Options } from "../../options";
import type { LoadOptions } from "./options";
import { loadNamespace } from "../../objects";
import { boundedName, MAX_LABEL_LENGTH } from "../../../components/config/settings";

/*
 * CL2 references: kubernetes/perf-tests at 4b3415444f4c62406d508539732abee3eadd3aa8, clusterloader2/testing/load/:
 * config.yaml (C), modules/reconcile-objects/config.yaml (R), pkg/tuningset/randomized_time_limited.go (T).
 */

/** CL2's constants, not knobs: SMALL/MEDIUM_STATEFUL_SETS_PER_NAMESPACE (C L19-20), RANDOM_SCALE_FACTOR (C L25). */
const STATEFUL_SETS_PER_NAMESPACE = 1;
export const RANDOM_SCALE_FACTOR = 0.5;
/** A Job's completions: size × 2 × (1 + factor) (R L44, L200): parallelism scaled up to 1.5× still has pods to run. */
export const JOB_COMPLETIONS_FACTOR = 2 * (1 + RANDOM_SCALE_FACTOR);
/** Below this many Nodes CL2 makes no big Job (C L11 IS_SMALL_CLUSTER, L52). */
const SMALL_CLUSTER_NODES = 100;

export type LoadKind =
    "ConfigMap" | "Secret" | "Deployment" | "Service" | "StatefulSet" | "Job" | "DaemonSet" | "PriorityClass";
export type Size = "big" | "medium" | "small";
export type LoadGroup = Size | "daemon";
const SIZES: readonly Size[] = ["big", "medium", "small"];

export interface LoadObject {
    readonly kind: LoadKind;
    /** "" for the cluster-scoped PriorityClass. */
    readonly namespace: string;
    readonly name: string;
    /** Pods at creation: replicas (Deployment, StatefulSet), parallelism (Job); none for the DaemonSet and others. */
    readonly replicas?: number;
    readonly group: LoadGroup;
    /** CL2's Index among its kind and size in its namespace: names, `svc` labels, which ConfigMaps are mutable. */
    readonly index: number;
    /** A StatefulSet's headless Service, not one of the Services of the Deployments. */
    readonly headless?: boolean;
    /** The DaemonSet's rollingUpdate.maxUnavailable: max(10, Nodes / 20) as CL2_DS_SURGE (daemonset.yaml L3). */
    readonly maxUnavailable?: number;
}

export interface TimedStep {
    /** Milliseconds after the phase starts. */
    readonly atMs: number;
    readonly action: "create" | "scale" | "update" | "delete";
    readonly object: LoadObject;
    /** Pods after the step: create (the object's own), scale (the target). */
    readonly replicas?: number;
}

export interface CL2LoadPlan {
    /** The seed used: options.seed, else the caller's fresh one; the same seed and options give the same plan. */
    readonly seed: number;
    readonly namespaces: readonly string[];
    readonly priorityClass: string;
    /** podsPerNode × hollow Nodes: what the windows are paced on. */
    readonly totalPods: number;
    readonly podsPerNamespace: number;
    /** Every object the plan makes, in setup order then creation order of the bundles. */
    readonly objects: readonly LoadObject[];
    /** Services, the PriorityClass, each Deployment's ConfigMap and Secret, paced at setupQps (C L158-185). */
    readonly setup: readonly TimedStep[];
    /** DaemonSet, Deployments, StatefulSets (after their headless Service), Jobs: at random in [0, create window). */
    readonly create: readonly TimedStep[];
    /** Deployments, StatefulSets, Jobs scaled, the DaemonSet's rolling update: random times in [0, scale window). */
    readonly scale: readonly TimedStep[];
    /** The objects of create, each at a random time in [0, windowsMs.delete). */
    readonly delete: readonly TimedStep[];
    /** The ConfigMaps and Secrets, the PriorityClass, the Services, paced at setupQps (C L433-458). */
    readonly teardown: readonly TimedStep[];
    readonly windowsMs: { readonly create: number; readonly scale: number; readonly delete: number };
    /** CL2's `default` tuning set: 10 calls per second up to 500 Nodes, 100 above (C L85). */
    readonly setupQps: number;
    /** Pods of the Deployments, StatefulSets and Jobs once all are created; the DaemonSet's are in daemonSetPods. */
    readonly podsAtFull: number;
    /** One per hollow Node of the stack, beside podsAtFull. */
    readonly daemonSetPods: number;
    readonly podsAfterScale: number;
    /** Objects by kind and by kind/group (e.g. `Deployment`, `Deployment/big`). */
    readonly counts: Readonly<Record<string, number>>;
    /** What differs from CL2 or is missing on a cluster this small, in words for the report. */
    readonly notes: readonly string[];
}

/** Objects of one namespace, as CL2 counts them. */
export interface NamespaceShape {
    readonly deployments: Readonly<Record<Size, number>>;
    readonly services: Readonly<Record<Size, number>>;
    readonly statefulSets: { readonly small: number; readonly medium: number };
    readonly jobs: Readonly<Record<Size, number>>;
}

export const sizeOf = (o: LoadOptions, s: Size) =>
    s === "big" ? o.bigGroupSize : s === "medium" ? o.mediumGroupSize : o.smallGroupSize;

/** The namespaces of a stack's load: CL2 numbers them from 1. At most 17 + 30 (the slug) + 1 + digits characters. */
export function loadNamespaces(stack: string, count: number): string[] {
    return Array.from({ length: count }, (_, i) => boundedName(`${loadNamespace(stack)}-${i + 1}`, MAX_LABEL_LENGTH));
}

/** The DaemonSet's PriorityClass: cluster-scoped, so named by the run, never shared by two runs or stacks. */
export function priorityClassName(runId: string): string {
    return boundedName(
        `kubemark-measure-${runId.toLowerCase().replace(/[^a-z0-9-]+/g, "-")}`.replace(/-+$/, ""),
        MAX_LABEL_LENGTH,
    );
}

/**
 * CL2's per-namespace counts (C L33-52, L163-165, L224-226): ¼ of the pods in big Deployments, ¼ in medium, ½ in
 * small, each count less one for the StatefulSet of its size (small, medium) and one for the Job (all), at least 0.
 */
export function namespaceShape(
    o: LoadOptions,
    podsPerNamespace: number,
    hollowNodes: number,
): { shape: NamespaceShape; notes: string[] } {
    const notes: string[] = [];
    const share: Record<Size, number> = { big: 4, medium: 4, small: 2 };
    const takenBy: Record<Size, number> = {
        big: 1,
        medium: STATEFUL_SETS_PER_NAMESPACE + 1,
        small: STATEFUL_SETS_PER_NAMESPACE + 1,
    };
    const deployments = { big: 0, medium: 0, small: 0 };
    for (const s of SIZES) {
        const raw = Math.trunc(podsPerNamespace / (share[s] * sizeOf(o, s)));
        deployments[s] = Math.max(0, raw - takenBy[s]);
        if (deployments[s] === 0) {
            notes.push(
                `no ${s} Deployments: ${podsPerNamespace} pods per namespace / (${share[s]} × ${sizeOf(o, s)}) = ${raw}, ` +
                    `less ${takenBy[s]} for the ${s === "big" ? "Job" : "StatefulSet and Job"} of that size`,
            );
        }
    }
    const bigJobs = hollowNodes < SMALL_CLUSTER_NODES ? 0 : 1;
    if (bigJobs === 0) {
        notes.push(`no big Job: CL2 makes none below ${SMALL_CLUSTER_NODES} Nodes`);
    }
    const half = (n: number) => Math.trunc((n + 1) / 2);
    return {
        shape: {
            deployments,
            services: { big: half(deployments.big), medium: half(deployments.medium), small: half(deployments.small) },
            statefulSets: { small: STATEFUL_SETS_PER_NAMESPACE, medium: STATEFUL_SETS_PER_NAMESPACE },
            jobs: { big: bigJobs, medium: 1, small: 1 },
        },
        notes,
    };
}

/** Steps 1/qps apart, as CL2's globalQPSLoad with burst 1; one action's objects (a ConfigMap, its Secret) together. */
function paced(actions: readonly (readonly LoadObject[])[], action: "create" | "delete", qps: number): TimedStep[] {
    return actions.flatMap((objs, k) =>
        objs.map((object): TimedStep => ({ atMs: Math.round((k * 1000) / qps), action, object })),
    );
}

const byTime = (steps: TimedStep[]) => steps.sort((a, b) => a.atMs - b.atMs);

/**
 * The load on `hollowNodes` Nodes. Namespaces: ceil(Nodes / nodesPerNamespace), every Node loaded (CL2 takes the
 * floor and leaves the remainder's Nodes empty; the two agree when it divides). `seed` is for an unset options.seed.
 */
export function cl2LoadPlan(options: Options, hollowNodes: number, seed: number, runId: string): CL2LoadPlan {
    if (!Number.isInteger(hollowNodes) || hollowNodes < 1) {
        throw new RangeError(`${hollowNodes} hollow Nodes: the load needs at least one Ready hollow Node`);
    }
    const used = options.seed ?? seed;
    const namespaceCount = Math.max(1, Math.ceil(hollowNodes / options.nodesPerNamespace));
    const totalPods = options.podsPerNode * hollowNodes;
    const podsPerNamespace = Math.trunc(totalPods / namespaceCount);
    const { shape, notes } = namespaceShape(options, podsPerNamespace, hollowNodes);
    if (hollowNodes > options.nodesPerNamespace && hollowNodes % options.nodesPerNamespace !== 0) {
        notes.unshift(
            `${namespaceCount} namespaces for ${hollowNodes} Nodes (ceil); CL2 would make ${Math.trunc(hollowNodes / options.nodesPerNamespace)} ` +
                `and load only ${Math.trunc(hollowNodes / options.nodesPerNamespace) * options.nodesPerNamespace} Nodes`,
        );
    }
    const namespaces = loadNamespaces(options.stack, namespaceCount);
    const priorityClass = priorityClassName(runId);

    const services: LoadObject[] = [];
    const configs: LoadObject[][] = [];
    // One action each, as CL2's object bundles: a StatefulSet goes with its headless Service (R L168-172).
    const bundles: LoadObject[][] = [
        [
            {
                kind: "DaemonSet",
                namespace: namespaces[0],
                name: "daemonset-0",
                group: "daemon",
                index: 0,
                maxUnavailable: Math.max(10, Math.trunc(hollowNodes / 20)),
            },
        ],
    ];
    for (const ns of namespaces) {
        for (const s of SIZES) {
            for (let i = 0; i < shape.services[s]; i++) {
                services.push({ kind: "Service", namespace: ns, name: `${s}-service-${i}`, group: s, index: i });
            }
            for (let i = 0; i < shape.deployments[s]; i++) {
                const name = `${s}-deployment-${i}`;
                configs.push([
                    { kind: "ConfigMap", namespace: ns, name, group: s, index: i },
                    { kind: "Secret", namespace: ns, name, group: s, index: i },
                ]);
                bundles.push([
                    { kind: "Deployment", namespace: ns, name, group: s, index: i, replicas: sizeOf(options, s) },
                ]);
            }
        }
        for (const s of ["small", "medium"] as const) {
            for (let i = 0; i < shape.statefulSets[s]; i++) {
                const name = `${s}-statefulset-${i}`;
                bundles.push([
                    { kind: "Service", namespace: ns, name, group: s, index: i, headless: true },
                    { kind: "StatefulSet", namespace: ns, name, group: s, index: i, replicas: sizeOf(options, s) },
                ]);
            }
        }
        for (const s of ["small", "medium", "big"] as const) {
            for (let i = 0; i < shape.jobs[s]; i++) {
                bundles.push([
                    {
                        kind: "Job",
                        namespace: ns,
                        name: `${s}-job-${i}`,
                        group: s,
                        index: i,
                        replicas: sizeOf(options, s),
                    },
                ]);
            }
        }
    }
    const pc: LoadObject = { kind: "PriorityClass", namespace: "", name: priorityClass, group: "daemon", index: 0 };
    const setupQps = hollowNodes <= 500 ? 10 : 100;

    // CL2's DivideInt: whole seconds (C L30-31, L115); each action sleeps rand.Int63n(limit) before it runs (T L37-51).
    const saturationS = Math.trunc(totalPods / options.podsPerSecond);
    const windowsMs = {
        create: saturationS * 1000,
        scale: Math.trunc(saturationS / 4) * 1000,
        delete: saturationS * 1000,
    };
    const rng = seedrandom(`cl2-load:${used}`);
    const below = (n: number) => (n > 0 ? Math.floor(rng.double() * n) : 0);
    // CL2's RandIntRange: uniform over the integers of [lo, hi], lo when lo ≥ hi (template_functions.go L151-160).
    const between = (lo: number, hi: number) => (lo >= hi ? lo : lo + below(hi - lo + 1));

    const create = bundles.flatMap((objs) => {
        const atMs = below(windowsMs.create);
        return objs.map((object): TimedStep => ({ atMs, action: "create", object, replicas: object.replicas }));
    });
    let podsAfterScale = 0;
    let moved = 0;
    const scale = bundles.map((objs): TimedStep => {
        const object = objs[objs.length - 1];
        const atMs = below(windowsMs.scale);
        if (object.replicas === undefined) {
            return { atMs, action: "update", object };
        }
        // MultiplyInt truncates: a small size of 5 goes to [2, 7] (R L118-119).
        const replicas = between(
            Math.trunc(object.replicas * (1 - RANDOM_SCALE_FACTOR)),
            Math.trunc(object.replicas * (1 + RANDOM_SCALE_FACTOR)),
        );
        podsAfterScale += replicas;
        moved += Math.abs(replicas - object.replicas);
        return { atMs, action: "scale", object, replicas };
    });
    const del = bundles.flatMap((objs) => {
        const atMs = below(windowsMs.delete);
        // The pods' owner first, then the Service that named them.
        return [...objs].reverse().map((object): TimedStep => ({ atMs, action: "delete", object }));
    });

    const podsAtFull = bundles.flat().reduce((a, o) => a + (o.replicas ?? 0), 0);
    if (podsAtFull !== totalPods) {
        notes.push(
            `the objects hold ${podsAtFull} of the ${totalPods} pods the windows are paced on (CL2's whole-number division)`,
        );
    }
    notes.push(`StatefulSets without PersistentVolumes: hollow Nodes mount none (CL2_ENABLE_PVS off, as for kubemark)`);
    notes.push(
        `scale window ${windowsMs.scale / 1000} s = (${totalPods} pods / ${options.podsPerSecond} per s) / 4 as CL2, which expects ` +
            `a quarter of the pods to move; this seed moves ${moved} and rolls ${hollowNodes} DaemonSet pods`,
    );
    if (windowsMs.create === 0) {
        notes.push(`create and delete windows of 0 s (fewer pods than one second's worth): every object at once`);
    }

    const objects = [...services, pc, ...configs.flat(), ...bundles.flat()];
    const counts: Record<string, number> = {};
    for (const o of objects) {
        for (const key of [o.kind, `${o.kind}/${o.headless ? "headless" : o.group}`]) {
            counts[key] = (counts[key] ?? 0) + 1;
        }
    }
    return {
        seed: used,
        namespaces,
        priorityClass,
        totalPods,
        podsPerNamespace,
        objects,
        setup: paced([...services.map((s) => [s]), [pc], ...configs], "create", setupQps),
        create: byTime(create),
        scale: byTime(scale),
        delete: byTime(del),
        teardown: paced([...configs, [pc], ...services.map((s) => [s])], "delete", setupQps),
        windowsMs,
        setupQps,
        podsAtFull,
        daemonSetPods: hollowNodes,
        podsAfterScale,
        counts,
        notes,
    };
}
