// The command line of `npm run measure`: every option with its default, its bounds, and the scenarios it steers.
import { CHURN_OPTIONS, ChurnOptions } from "./scenarios/churn/options";
import { DENSITY_OPTIONS, DensityOptions } from "./scenarios/density/options";
import { LOAD_OPTIONS, LoadOptions } from "./scenarios/load/options";
import { ListSpec, NumberSpec, POD_SCENARIOS, Scenario, SCENARIOS, TextSpec } from "./optionSpec";
import { checkPoolName } from "./pools";

export { Scenario, SCENARIOS } from "./optionSpec";
export type { ListSpec, NumberSpec } from "./optionSpec";

interface CommonOptions {
    readonly stack: string;
    readonly scenario: Scenario;
    /** Report folder; undefined: measure-results/<stack>-<scenario>-<UTC time>/. */
    readonly output?: string;
    /** Bound on the whole run, cleanup excluded. */
    readonly timeoutSeconds: number;
    readonly metricsEverySeconds: number;
    readonly nodePollSeconds: number;
    /** Control-plane components' /metrics; undefined: the target API server's host at the component's usual port. */
    readonly etcdMetricsUrl?: string;
    readonly schedulerMetricsUrl?: string;
    readonly controllerManagerMetricsUrl?: string;
    /** The node pools the run loads (or whose hollow Nodes a churn kills); undefined: all of the stack's pools. */
    readonly pools?: readonly string[];
}

/** Options of the scenarios that put pods on the hollow Nodes (load, density). */
export interface PodOptions {
    readonly podsPerNode: number;
    readonly podsPerSecond: number;
    readonly holdSeconds: number;
    readonly phaseTimeoutSeconds: number;
    readonly tolerationSeconds: number;
    /** ClusterLoader2's latency pods; undefined: min(500, hollow Nodes), 0 skips the phase. */
    readonly latencyPods?: number;
    readonly latencyPodsPerSecond: number;
}

export type Options = CommonOptions & PodOptions & LoadOptions & DensityOptions & ChurnOptions;

type NumericKey = { [K in keyof Options]-?: NonNullable<Options[K]> extends number ? K : never }[keyof Options];
type TextKey = "etcdMetricsUrl" | "schedulerMetricsUrl" | "controllerManagerMetricsUrl";

const COMMON_OPTIONS: readonly NumberSpec<keyof CommonOptions>[] = [
    {
        key: "timeoutSeconds",
        flag: "timeout-seconds",
        default: 1800,
        min: 60,
        max: 86400,
        integer: true,
        help: "bound on the whole run (cleanup excluded)",
    },
    {
        key: "metricsEverySeconds",
        flag: "metrics-every-seconds",
        default: 10,
        min: 2,
        max: 300,
        integer: true,
        help: "how often the control plane's /metrics and the host's load are read",
    },
    {
        key: "nodePollSeconds",
        flag: "node-poll-seconds",
        default: 5,
        min: 1,
        max: 60,
        integer: true,
        help: "how often the hollow Nodes' readiness is looked at",
    },
];

/**
 * CL2's load defaults where they apply to both (30 pods per node, 10 pods/s; its latency pods at 5/s); a first run
 * in the lab (10 hollow Nodes) takes a few minutes.
 */
const POD_OPTIONS: readonly NumberSpec<keyof PodOptions>[] = [
    {
        key: "podsPerNode",
        flag: "pods-per-node",
        default: 30,
        min: 1,
        max: 100,
        integer: true,
        scenarios: POD_SCENARIOS,
        help: "pods per hollow Node at full load (CL2's PODS_PER_NODE)",
    },
    {
        key: "podsPerSecond",
        flag: "pods-per-second",
        default: 10,
        min: 0.1,
        max: 20,
        integer: false,
        scenarios: POD_SCENARIOS,
        help: "pods created (and deleted) per second, at most the SLOs' churn bound of 20",
    },
    {
        key: "holdSeconds",
        flag: "hold-seconds",
        default: 30,
        min: 0,
        max: 3600,
        integer: true,
        scenarios: POD_SCENARIOS,
        help: "how long full load is held",
    },
    {
        key: "phaseTimeoutSeconds",
        flag: "phase-timeout-seconds",
        default: 300,
        min: 10,
        max: 3600,
        integer: true,
        scenarios: POD_SCENARIOS,
        help: "bound on each wait for pods Running or gone",
    },
    {
        key: "tolerationSeconds",
        flag: "toleration-seconds",
        default: 30,
        min: 0,
        max: 3600,
        integer: true,
        scenarios: POD_SCENARIOS,
        help: "how long pods stay on a NotReady or unreachable hollow Node",
    },
    {
        key: "latencyPods",
        flag: "latency-pods",
        defaultText: "min(500, hollow Nodes)",
        min: 0,
        max: 5000,
        integer: true,
        scenarios: POD_SCENARIOS,
        help: "1-replica Deployments whose startup the SLO judges, made on the full cluster; 0 skips the phase",
    },
    {
        key: "latencyPodsPerSecond",
        flag: "latency-pods-per-second",
        default: 5,
        min: 0.1,
        max: 20,
        integer: false,
        scenarios: POD_SCENARIOS,
        help: "rate at which the latency pods are created (CL2's 5)",
    },
];

export const NUMBER_OPTIONS: readonly NumberSpec<NumericKey>[] = [
    ...COMMON_OPTIONS,
    ...POD_OPTIONS,
    ...LOAD_OPTIONS,
    ...DENSITY_OPTIONS,
    ...CHURN_OPTIONS,
] as readonly NumberSpec<NumericKey>[];

const httpUrl = (v: string) =>
    /^https?:\/\/[^\s/]+(\/\S*)?$/.test(v) ? undefined : "accepted: an http:// or https:// URL";

export const TEXT_OPTIONS: readonly TextSpec<TextKey>[] = [
    {
        key: "etcdMetricsUrl",
        flag: "etcd-metrics-url",
        check: httpUrl,
        help: "etcd's /metrics (default http://<API server host>:2381/metrics)",
    },
    {
        key: "schedulerMetricsUrl",
        flag: "scheduler-metrics-url",
        check: httpUrl,
        help: "kube-scheduler's /metrics (default https://<API server host>:10259/metrics)",
    },
    {
        key: "controllerManagerMetricsUrl",
        flag: "controller-manager-metrics-url",
        check: httpUrl,
        help: "kube-controller-manager's /metrics (default https://<API server host>:10257/metrics)",
    },
];

const steers = (s: { scenarios?: readonly Scenario[] }, scenario: Scenario) =>
    !s.scenarios || s.scenarios.includes(scenario);

/** The options a scenario's run takes, for its report: the others do not apply. */
export function optionsOf(options: Options): Record<string, string | number> {
    const out: Record<string, string | number> = { stack: options.stack, scenario: options.scenario };
    if (options.output !== undefined) {
        out.output = options.output;
    }
    for (const spec of [...NUMBER_OPTIONS, ...TEXT_OPTIONS]) {
        const v = options[spec.key];
        if (steers(spec, options.scenario) && v !== undefined) {
            out[spec.key] = v;
        }
    }
    for (const spec of LIST_OPTIONS) {
        const v = options[spec.key];
        if (steers(spec, options.scenario) && v !== undefined) {
            out[spec.key] = v.join(", ");
        }
    }
    return out;
}

export const LIST_OPTIONS: readonly ListSpec<"pools">[] = [
    {
        key: "pools",
        flag: "pool",
        defaultText: "all pools",
        acceptedText: "pool names of the stack, the option repeated or a comma list",
        check: checkPoolName,
        help: "the node pools loaded (churn: whose hollow Nodes are killed), by their kubemark-pulumi/pool label",
    },
];

const scenariosText = (s: { scenarios?: readonly Scenario[] }) => (s.scenarios ? `; ${s.scenarios.join(", ")}` : "");

export const USAGE = [
    "usage: npm run measure -- --stack <name> [--scenario load|density|churn] [options]",
    "  --stack <name>            the Pulumi stack to measure (it must be up)",
    "  --scenario <name>         load (default): ClusterLoader2's load test; density: Deployments of one size at an even pace;",
    "                            churn: kill hollow pods",
    "  --output <folder>         where the report goes (default measure-results/<stack>-<scenario>-<UTC time>/)",
    ...NUMBER_OPTIONS.map(
        (o) =>
            `  --${`${o.flag} <n>`.padEnd(24)} ${o.help} (default ${o.default ?? o.defaultText}, ${o.min} to ${o.max}${scenariosText(o)})`,
    ),
    ...TEXT_OPTIONS.map((o) => `  --${`${o.flag} <url>`.padEnd(24)} ${o.help}`),
    ...LIST_OPTIONS.map(
        (o) =>
            `  --${`${o.flag} <a,b>`.padEnd(24)} ${o.help} (default ${o.defaultText}; repeatable${scenariosText(o)})`,
    ),
].join("\n");

/** A refused command line, every problem named; nothing has been read or created yet. */
export class OptionsError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(`${problems.join("\n")}\n\n${USAGE}`);
    }
}

/** A stack name as `pulumi stack` accepts it: `[org/[project/]]name` of letters, digits, `-`, `_` and `.`. */
const STACK_NAME = /^([A-Za-z0-9][A-Za-z0-9_.-]*\/){0,2}[A-Za-z0-9_.-]+$/;

/**
 * Splits `--name value` and `--name=value`; problems are collected, not thrown. A repeatable option given again
 * adds to its comma list.
 */
function readArgs(
    argv: readonly string[],
    known: ReadonlySet<string>,
    repeatable: ReadonlySet<string>,
    problems: string[],
): Map<string, string> | "help" {
    const given = new Map<string, string>();
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "--help" || arg === "-h") {
            return "help";
        }
        const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
        if (!m) {
            problems.push(`${JSON.stringify(arg)}: not an option; options are --name value or --name=value`);
            continue;
        }
        const [, flag, inline] = m;
        if (!known.has(flag)) {
            problems.push(`--${flag}: unknown option; accepted: ${[...known].map((k) => `--${k}`).join(", ")}`);
            continue;
        }
        const value = inline ?? argv[i + 1];
        if (inline === undefined) {
            i++;
        }
        if (value === undefined || (inline === undefined && value.startsWith("--"))) {
            problems.push(`--${flag}: needs a value`);
            if (value !== undefined) {
                i--;
            }
            continue;
        }
        if (given.has(flag) && repeatable.has(flag)) {
            given.set(flag, `${given.get(flag)},${value}`);
            continue;
        }
        if (given.has(flag)) {
            problems.push(`--${flag}: given twice (${JSON.stringify(given.get(flag))} and ${JSON.stringify(value)})`);
        }
        given.set(flag, value);
    }
    return given;
}

const onlyFor = (flag: string, text: string, s: { scenarios?: readonly Scenario[] }, scenario: Scenario) =>
    `--${flag} ${JSON.stringify(text)}: applies to --scenario ${s.scenarios?.join(" or ")} only, not ${scenario}`;

/** Reads the arguments after `--`; `help` when asked for usage. Throws an OptionsError naming every problem. */
export function parseOptions(argv: readonly string[]): Options | "help" {
    const problems: string[] = [];
    const known = new Set([
        "stack",
        "scenario",
        "output",
        ...NUMBER_OPTIONS.map((o) => o.flag),
        ...TEXT_OPTIONS.map((o) => o.flag),
        ...LIST_OPTIONS.map((o) => o.flag),
    ]);
    const given = readArgs(argv, known, new Set(LIST_OPTIONS.map((o) => o.flag)), problems);
    if (given === "help") {
        return "help";
    }
    const stack = given.get("stack");
    if (stack === undefined) {
        problems.push("--stack: required; the name of a stack that is up, as `pulumi stack ls` shows it");
    } else if (!STACK_NAME.test(stack)) {
        problems.push(
            `--stack ${JSON.stringify(stack)}: not a stack name; accepted: [org/[project/]]name of letters, digits, '-', '_', '.'`,
        );
    }
    const scenarioText = given.get("scenario") ?? "load";
    const scenario = SCENARIOS.find((s) => s === scenarioText);
    if (!scenario) {
        problems.push(`--scenario ${JSON.stringify(scenarioText)}: accepted: ${SCENARIOS.join(", ")}`);
    }
    const output = given.get("output");
    if (output !== undefined && output.trim() === "") {
        problems.push('--output "": accepted: a folder path');
    }
    const values: Partial<Record<NumericKey | TextKey, number | string>> = {};
    for (const spec of NUMBER_OPTIONS) {
        const text = given.get(spec.flag);
        if (text === undefined) {
            values[spec.key] = spec.default;
            continue;
        }
        const v = /^\s*[0-9]+(\.[0-9]+)?\s*$/.test(text) ? Number(text) : NaN;
        const accepted = `accepted: ${spec.integer ? "a whole number" : "a number"} from ${spec.min} to ${spec.max}`;
        if (!Number.isFinite(v) || (spec.integer && !Number.isInteger(v)) || v < spec.min || v > spec.max) {
            problems.push(`--${spec.flag} ${JSON.stringify(text)}: ${accepted}`);
        } else if (scenario && !steers(spec, scenario)) {
            problems.push(onlyFor(spec.flag, text, spec, scenario));
        }
        values[spec.key] = v;
    }
    for (const spec of TEXT_OPTIONS) {
        const text = given.get(spec.flag);
        if (text === undefined) {
            continue;
        }
        const why = spec.check(text);
        if (why) {
            problems.push(`--${spec.flag} ${JSON.stringify(text)}: ${why}`);
        } else if (scenario && !steers(spec, scenario)) {
            problems.push(onlyFor(spec.flag, text, spec, scenario));
        }
        values[spec.key] = text;
    }
    const lists: Partial<Record<ListSpec["key"], readonly string[]>> = {};
    for (const spec of LIST_OPTIONS) {
        const text = given.get(spec.flag);
        if (text === undefined) {
            continue;
        }
        const items = text.split(",").map((v) => v.trim());
        for (const item of items) {
            const why = spec.check(item);
            if (why) {
                problems.push(`--${spec.flag} ${JSON.stringify(item)}: ${why}`);
            }
        }
        if (scenario && !steers(spec, scenario)) {
            problems.push(onlyFor(spec.flag, text, spec, scenario));
        }
        lists[spec.key] = [...new Set(items)];
    }
    if (problems.length > 0) {
        throw new OptionsError(problems);
    }
    return { stack: stack as string, scenario: scenario as Scenario, output, ...values, ...lists } as Options;
}

/** The defaults alone, for a stack: what a first run uses. */
export function defaultOptions(stack: string, scenario: Scenario = "load"): Options {
    return parseOptions(["--stack", stack, "--scenario", scenario]) as Options;
}
