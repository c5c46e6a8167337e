// The command line of `npm run measure`: every option with its default, its bounds, and the scenario it belongs to.

export type Scenario = "load" | "churn";
export const SCENARIOS: readonly Scenario[] = ["load", "churn"];

export interface Options {
    readonly stack: string;
    readonly scenario: Scenario;
    /** Report folder; undefined: measure-results/<stack>-<scenario>-<UTC time>/. */
    readonly output?: string;
    /** Bound on the whole run, cleanup excluded. */
    readonly timeoutSeconds: number;
    readonly metricsEverySeconds: number;
    readonly nodePollSeconds: number;
    // load
    readonly podsPerNode: number;
    readonly podsPerDeployment: number;
    readonly podsPerSecond: number;
    readonly holdSeconds: number;
    readonly scaleDownPercent: number;
    readonly phaseTimeoutSeconds: number;
    readonly tolerationSeconds: number;
    // churn
    readonly kills: number;
    readonly killsPerMinute: number;
    readonly downSeconds: number;
    readonly recoverTimeoutSeconds: number;
}

type NumericKey = { [K in keyof Options]-?: Options[K] extends number ? K : never }[keyof Options];

interface NumberSpec {
    readonly key: NumericKey;
    readonly flag: string;
    readonly default: number;
    readonly min: number;
    readonly max: number;
    readonly integer: boolean;
    /** The scenario the option steers; undefined: both. */
    readonly scenario?: Scenario;
    readonly help: string;
}

/**
 * Defaults make a first run in the lab (10 hollow Nodes) meaningful in a few minutes: 100 pods created at 10/s,
 * half the SLOs' churn bound; two hollow nodes killed, each kept down past the node-monitor-grace-period (50 s from
 * v1.32, 40 s before) plus a Lease renewal and a monitor period, with room for a loaded controller manager.
 */
export const NUMBER_OPTIONS: readonly NumberSpec[] = [
    { key: "timeoutSeconds", flag: "timeout-seconds", default: 1800, min: 60, max: 86400, integer: true, help: "bound on the whole run (cleanup excluded)" },
    { key: "metricsEverySeconds", flag: "metrics-every-seconds", default: 10, min: 2, max: 300, integer: true, help: "how often kube-apiserver's /metrics is scraped" },
    { key: "nodePollSeconds", flag: "node-poll-seconds", default: 5, min: 1, max: 60, integer: true, help: "how often the hollow Nodes' readiness is looked at" },
    { key: "podsPerNode", flag: "pods-per-node", default: 10, min: 1, max: 100, integer: true, scenario: "load", help: "pods per hollow Node at full load" },
    { key: "podsPerDeployment", flag: "pods-per-deployment", default: 5, min: 1, max: 1000, integer: true, scenario: "load", help: "replicas of each Deployment" },
    { key: "podsPerSecond", flag: "pods-per-second", default: 10, min: 0.1, max: 20, integer: false, scenario: "load", help: "pods created (and deleted) per second, at most the SLOs' churn bound of 20" },
    { key: "holdSeconds", flag: "hold-seconds", default: 30, min: 0, max: 3600, integer: true, scenario: "load", help: "how long full load is held" },
    { key: "scaleDownPercent", flag: "scale-down-percent", default: 50, min: 0, max: 100, integer: true, scenario: "load", help: "share of pods removed and brought back in the scale phase; 0 skips it" },
    { key: "phaseTimeoutSeconds", flag: "phase-timeout-seconds", default: 300, min: 10, max: 3600, integer: true, scenario: "load", help: "bound on each wait for pods Running or gone" },
    { key: "tolerationSeconds", flag: "toleration-seconds", default: 30, min: 0, max: 3600, integer: true, scenario: "load", help: "how long pods stay on a NotReady or unreachable hollow Node" },
    { key: "kills", flag: "kills", default: 2, min: 1, max: 20, integer: true, scenario: "churn", help: "hollow pods killed, each once" },
    { key: "killsPerMinute", flag: "kills-per-minute", default: 2, min: 0.1, max: 30, integer: false, scenario: "churn", help: "rate of the kills" },
    { key: "downSeconds", flag: "down-seconds", default: 90, min: 0, max: 900, integer: true, scenario: "churn", help: "how long a killed pod's replacement is kept from starting" },
    { key: "recoverTimeoutSeconds", flag: "recover-timeout-seconds", default: 300, min: 10, max: 3600, integer: true, scenario: "churn", help: "bound on each wait for a killed hollow Node to be Ready again" },
];

export const USAGE = [
    "usage: npm run measure -- --stack <name> [--scenario load|churn] [options]",
    "  --stack <name>            the Pulumi stack to measure (it must be up)",
    "  --scenario load|churn     load (default): Deployments on the hollow Nodes; churn: kill hollow pods",
    "  --output <folder>         where the report goes (default measure-results/<stack>-<scenario>-<UTC time>/)",
    ...NUMBER_OPTIONS.map((o) => `  --${`${o.flag} <n>`.padEnd(24)} ${o.help} (default ${o.default}, ${o.min} to ${o.max}${o.scenario ? `; ${o.scenario}` : ""})`),
].join("\n");

/** A refused command line, every problem named; nothing has been read or created yet. */
export class OptionsError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(`${problems.join("\n")}\n\n${USAGE}`);
    }
}

/** A stack name as `pulumi stack` accepts it: `[org/[project/]]name` of letters, digits, `-`, `_` and `.`. */
const STACK_NAME = /^([A-Za-z0-9][A-Za-z0-9_.-]*\/){0,2}[A-Za-z0-9_.-]+$/;

/** Reads the arguments after `--`; `help` when asked for usage. Throws an OptionsError naming every problem. */
export function parseOptions(argv: readonly string[]): Options | "help" {
    const given = new Map<string, string>();
    const problems: string[] = [];
    const known = new Set(["stack", "scenario", "output", ...NUMBER_OPTIONS.map((o) => o.flag)]);
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
        if (given.has(flag)) {
            problems.push(`--${flag}: given twice (${JSON.stringify(given.get(flag))} and ${JSON.stringify(value)})`);
        }
        given.set(flag, value);
    }
    const stack = given.get("stack");
    if (stack === undefined) {
        problems.push("--stack: required; the name of a stack that is up, as `pulumi stack ls` shows it");
    } else if (!STACK_NAME.test(stack)) {
        problems.push(`--stack ${JSON.stringify(stack)}: not a stack name; accepted: [org/[project/]]name of letters, digits, '-', '_', '.'`);
    }
    const scenarioText = given.get("scenario") ?? "load";
    const scenario = SCENARIOS.find((s) => s === scenarioText);
    if (!scenario) {
        problems.push(`--scenario ${JSON.stringify(scenarioText)}: accepted: ${SCENARIOS.join(", ")}`);
    }
    const output = given.get("output");
    if (output !== undefined && output.trim() === "") {
        problems.push("--output \"\": accepted: a folder path");
    }
    const numbers: Partial<Record<NumericKey, number>> = {};
    for (const spec of NUMBER_OPTIONS) {
        const text = given.get(spec.flag);
        if (text === undefined) {
            numbers[spec.key] = spec.default;
            continue;
        }
        const v = /^\s*[0-9]+(\.[0-9]+)?\s*$/.test(text) ? Number(text) : NaN;
        const accepted = `accepted: ${spec.integer ? "a whole number" : "a number"} from ${spec.min} to ${spec.max}`;
        if (!Number.isFinite(v) || (spec.integer && !Number.isInteger(v)) || v < spec.min || v > spec.max) {
            problems.push(`--${spec.flag} ${JSON.stringify(text)}: ${accepted}`);
        } else if (scenario && spec.scenario && spec.scenario !== scenario) {
            problems.push(`--${spec.flag} ${JSON.stringify(text)}: applies to --scenario ${spec.scenario} only, not ${scenario}`);
        }
        numbers[spec.key] = v;
    }
    if (problems.length > 0) {
        throw new OptionsError(problems);
    }
    return { stack: stack as string, scenario: scenario as Scenario, output, ...(numbers as Record<NumericKey, number>) };
}

/** The defaults alone, for a stack: what a first run uses. */
export function defaultOptions(stack: string, scenario: Scenario = "load"): Options {
    return parseOptions(["--stack", stack, "--scenario", scenario]) as Options;
}
