package com.acme.dataplatform;

import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.client.RestTemplate;

/**
 * Takes Delphix snapshots of the VDBs the Spark jobs read (before ingest_trades runs).
 */
@RestController
@RequestMapping("/internal/snapshots")
public class SnapshotService {
    private static final String SNAPSHOTS = "/v3/vdbs/{vdbId}/snapshots";

    private final RestTemplate restTemplate;
    private final String dctUrl;

    public SnapshotService(RestTemplate restTemplate, String dctUrl) {
        this.restTemplate = restTemplate;
        this.dctUrl = dctUrl;
    }

    /** Snapshot one VDB now and return the DCT job id. */
    @PostMapping("/{vdbId}")
    public String snapshotVdb(@PathVariable String vdbId) {
        return restTemplate.postForObject(dctUrl + SNAPSHOTS, null, String.class, vdbId);
    }
}
