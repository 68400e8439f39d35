package com.acme.dataplatform

import org.springframework.web.client.RestTemplate

/** Checks that the Delphix environments hosting the QA VDBs are reachable. */
class EnvironmentCheck(private val rest: RestTemplate, private val dctUrl: String) {
    fun listEnvironments(): String? = rest.getForObject("$dctUrl/v3/environments", String::class.java)
}
