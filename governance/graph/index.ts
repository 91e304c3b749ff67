export { CallGraph, type CallGraphOptions } from './call-graph.js';
export { applyGraphEvent, type GraphEvent, type TaskRef } from './feed.js';
export { AggregateGraph, type AggregateOptions, type EdgeStats } from './aggregate.js';
export { TaskTrees, type CallRecord, type TaskTree, type LoopCut, type A2aIds } from './tree.js';
export { tarjan, cyclicComponents, cycleThrough } from './scc.js';
export type { AggregateJSON, TaskTreeJSON, TaskSummaryJSON, CallJSON, LoopJSON } from './json.js';
export { taskToDot, aggregateToDot } from './dot.js';
export { renderTaskTree, renderAggregateTable } from './render.js';
export { GraphBatch, applyGraphBatch, WIRE_VERSION } from './wire.js';
