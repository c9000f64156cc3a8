/** What is stored for a logical cloud and its children (all keyed by the logical cloud's id): plain types of the domain. */
export * from '../../domain/logical-cloud.js';
