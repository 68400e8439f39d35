using System.Net.Http;
using System.Threading.Tasks;

namespace Acme.DataPlatform
{
    /// <summary>Polls DCT jobs started by the refresh flows.</summary>
    public class DctJobs
    {
        private readonly HttpClient _client;
        private readonly string _base;

        public DctJobs(HttpClient client, string baseUrl) { _client = client; _base = baseUrl; }

        /// <summary>Status of a DCT job (RUNNING, COMPLETED, FAILED).</summary>
        public async Task<string> JobStatus(string jobId)
        {
            var response = await _client.GetAsync($"{_base}/v3/jobs/{jobId}");
            return await response.Content.ReadAsStringAsync();
        }
    }
}
