// Scenario churn's plan: which hollow pods are killed, and when.
import type { Options } from "../../options";
import { poolsText } from "../../pools";

export interface Kill {
    readonly pod: string;
    /** Milliseconds after the churn starts. */
    readonly atMs: number;
}

/**
 * Which hollow pods the churn kills and when: `kills` of them, spread over the sorted names (so a StatefulSet's
 * first and last ordinals are both tried), one every 60 / killsPerMinute seconds.
 */
export function churnPlan(options: Options, pods: readonly string[]): Kill[] {
    if (options.kills > pods.length) {
        throw new Error(
            `--kills ${options.kills}: the stack runs only ${pods.length} hollow pod(s)` +
                `${options.pools ? ` whose hollow Nodes are all in ${poolsText(options.pools)}` : ""}; accepted: 1 to ${pods.length}`,
        );
    }
    const sorted = [...pods].sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
    const every = 60_000 / options.killsPerMinute;
    const picks: string[] = [];
    for (let k = 0; k < options.kills; k++) {
        const index = options.kills === 1 ? 0 : Math.round((k * (sorted.length - 1)) / (options.kills - 1));
        picks.push(sorted[index]);
    }
    return picks.map((pod, k) => ({ pod, atMs: Math.round(k * every) }));
}
