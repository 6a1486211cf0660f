/** Who makes an administrative change, for the audit log. */
export interface Actor {
  /** A key id, a user id, or "system". */
  id: string;
  orgId: string;
  requestId: string | null;
  clientIp: string | null;
}
