/** What the status shows of an overall quota (one budget across a logical cloud's clusters), as plain types. */

/** One overall quota in the status: per key the budget, its use and what is assigned (sums), and each cluster's part. */
export interface OverallQuotaStatus {
  name: string;
  keys: {
    key: string;
    hard: string;
    used: string;
    assigned: string;
    /** Use above hard (hard was lowered below it): nothing is evicted, new work is refused until use falls. */
    overUsed?: boolean;
  }[];
  clusters: {
    reference: string;
    reachable: boolean;
    assigned: Record<string, string>;
    used: Record<string, string>;
    message?: string;
  }[];
}
