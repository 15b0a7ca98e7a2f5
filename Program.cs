using ThumbnailApi;

var builder = WebApplication.CreateBuilder(args);
builder.AddThumbnailApi();

var app = builder.Build();
app.UseThumbnailApi();
app.Run();
