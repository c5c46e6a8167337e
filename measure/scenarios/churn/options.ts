// Scenario churn's options.
import type { NumberSpec } from "../../optionSpec";

export interface ChurnOptions {
    readonly kills: number;
    readonly killsPerMinute: number;
    readonly downSeconds: number;
    readonly recoverTimeoutSeconds: number;
}

/**
 * Two hollow nodes killed, each kept down past the node-monitor-grace-period (50 s from v1.32, 40 s before) plus a
 * Lease renewal and a monitor period, with room for a loaded controller manager.
 */
export const CHURN_OPTIONS: readonly NumberSpec<keyof ChurnOptions>[] = [
    {
        key: "kills",
        flag: "kills",
        default: 2,
        min: 1,
        max: 20,
        integer: true,
        scenarios: ["churn"],
        help: "hollow pods killed, each once",
    },
    {
        key: "killsPerMinute",
        flag: "kills-per-minute",
        default: 2,
        min: 0.1,
        max: 30,
        integer: false,
        scenarios: ["churn"],
        help: "rate of the kills",
    },
    {
        key: "downSeconds",
        flag: "down-seconds",
        default: 90,
        min: 0,
        max: 900,
        integer: true,
        scenarios: ["churn"],
        help: "how long a killed pod is kept from coming back",
    },
    {
        key: "recoverTimeoutSeconds",
        flag: "recover-timeout-seconds",
        default: 300,
        min: 10,
        max: 3600,
        integer: true,
        scenarios: ["churn"],
        help: "bound on each wait for a killed hollow Node to be Ready again",
    },
];
