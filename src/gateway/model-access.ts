import type { VerifiedKey } from "../keys/index.js";
import type { CatalogModel } from "../store/index.js";

/** A model is allowed when the key's and workspace's allow-lists name it by its id or any alias. */
export function allowsModel(entry: VerifiedKey, model: CatalogModel): boolean {
  if (entry.allowsModel(model.id)) return true;
  for (const alias of model.aliases) if (entry.allowsModel(alias)) return true;
  return false;
}
