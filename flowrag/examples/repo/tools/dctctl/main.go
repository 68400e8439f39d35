// dctctl starts and stops VDBs around maintenance windows.
package main

import (
	"fmt"
	"net/http"
	"os"
)

// StopVDB stops a VDB through DCT before a maintenance window.
func StopVDB(base, id string) error {
	req, err := http.NewRequest("POST", base+"/v3/vdbs/"+id+"/stop", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "apk "+os.Getenv("DCT_API_KEY"))
	_, err = http.DefaultClient.Do(req)
	return err
}

// StartVDB starts it again afterwards.
func StartVDB(base, id string) error {
	_, err := http.Post(fmt.Sprintf("%s/v3/vdbs/%s/start", base, id), "application/json", nil)
	return err
}

func main() {
	if err := StopVDB(os.Getenv("DCT_URL"), os.Args[1]); err != nil {
		os.Exit(1)
	}
}
