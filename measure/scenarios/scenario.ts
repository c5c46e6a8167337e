// What every scenario of `npm run measure` is to the command line: a run, its SLI rows, its report and charts.
import type { RunContext } from "../context";
import type { RunRecord } from "../report";
import type { SliRow } from "../slo";
import type { Scenario } from "../optionSpec";

export interface Chart {
    readonly file: string;
    readonly title: string;
    readonly svg: string;
}

/** What every scenario's run ends with, beside its own figures. */
export interface Outcome {
    readonly error?: string;
    readonly cancelled: boolean;
}

export interface ScenarioRunner<O extends Outcome = Outcome> {
    readonly name: Scenario;
    /** A live run of this stack found at the start: refused (two loads), or left alone (a churn beside a load). */
    readonly onLiveRun: "refuse" | "skip";
    /** Said as the cleanup when the run created nothing in the target. */
    readonly createsNothing: string;
    run(cx: RunContext): Promise<O>;
    /** The SLI table's rows: each figure beside its bound and verdict. */
    rows(o: O): SliRow[];
    charts(o: O): Chart[];
    /** The report's sections after the SLI table; the command line adds the header, the health and the footer. */
    markdown(record: RunRecord, o: O, charts: readonly Chart[]): string[];
    /** Preconditions of the measurement that did not hold (a kill that found its pod gone): the run cannot pass. */
    preconditions(o: O): string[];
    /** The scenario's figures in report.json, beside the record. */
    json(o: O): Record<string, unknown>;
}
