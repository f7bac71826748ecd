from factories import comment_payload, make_site


def test_post_then_list(client, app_context):
    make_site()
    response = client.post("/api/v1/sites/news/comments", json=comment_payload())
    assert response.status_code == 202
    assert response.json["status"] == "pending"
    listing = client.get("/api/v1/sites/news/comments?thread=/article")
    assert listing.status_code == 200
    assert listing.json["count"] == 0
