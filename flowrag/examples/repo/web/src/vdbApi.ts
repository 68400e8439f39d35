// Front-end helpers of the data-platform portal (calls our API and, for read-only views, DCT).
import axios from "axios";

const DCT = "/dct/v3";

/** Rewind a VDB to a bookmark (used by the QA team before a test campaign). */
export async function refreshFromBookmark(vdbId: string, bookmarkId: string): Promise<string> {
  const response = await fetch(`${DCT}/vdbs/${vdbId}/refresh_from_bookmark`, {
    method: "POST",
    body: JSON.stringify({ bookmark_id: bookmarkId }),
  });
  return (await response.json()).job.id;
}

/** Bookmarks visible to the portal. */
export async function listBookmarks(): Promise<unknown[]> {
  return (await axios.get(DCT + "/bookmarks")).data.items;
}
