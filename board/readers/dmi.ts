import type { RootFs } from "../root-fs.ts";
import type { EvidenceLog } from "../evidence.ts";

/** Firmware fillers that name no product. */
const PLACEHOLDER = /^(to be filled by o\.e\.m\.|default string|system product name|system manufacturer|not applicable|none|)$/i;

/**
 * The PC's vendor and product from the firmware's DMI tables (x86 mini PCs have no device tree),
 * e.g. "Intel(R) Client Systems NUC12WSHi5". Null when absent or a placeholder.
 */
export function readDmiProduct(fs: RootFs, evidence: EvidenceLog): string | null {
  const part = (file: string) => {
    const value = fs.text(`/sys/class/dmi/id/${file}`)?.trim() ?? "";
    return PLACEHOLDER.test(value) ? null : value;
  };
  const vendor = part("sys_vendor");
  const product = part("product_name");
  if (!product) return null;
  const name = vendor && !product.startsWith(vendor) ? `${vendor} ${product}` : product;
  evidence.add("/sys/class/dmi/id/product_name", JSON.stringify(name));
  return name;
}
