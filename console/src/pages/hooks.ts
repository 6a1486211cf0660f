import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { get, type ListPage } from "../api";
import type { Workspace } from "../types";

export function useWorkspaces(includeArchived = false) {
  return useQuery({
    queryKey: ["workspaces", includeArchived],
    queryFn: () => get<ListPage<Workspace>>(`/api/v1/workspaces?limit=1000${includeArchived ? "&include_archived=true" : ""}`),
  });
}

/** A change that refreshes the listed queries when it succeeds. */
export function useChange<A, R>(fn: (a: A) => Promise<R>, invalidate: string[], onSuccess?: (r: R) => void) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSuccess: async (r) => {
      await Promise.all(invalidate.map((k) => qc.invalidateQueries({ queryKey: [k] })));
      onSuccess?.(r);
    },
  });
}
